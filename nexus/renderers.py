"""The API's JSON answers, written by orjson.

DRF's ``JSONRenderer`` writes with the standard library's encoder, in Python for every value. This one
gives the same bytes for what the API answers: compact, UTF-8, keys in order, ``\\u2028`` and ``\\u2029``
escaped; a UUID as its text; a subclass of ``str``, ``int``, ``dict`` or ``list`` (an ``ErrorDetail``, a
``TextChoices`` member, DRF's ``ReturnDict``, a ``QueryDict``) as the standard encoder sees it, through its
own ``items()`` or iteration; a datetime, a date, a decimal, a lazy translation and anything else orjson
does not write itself through DRF's own encoder (``default``), so a time still ends in ``Z``. What orjson
refuses (an integer past 64 bits) is written by DRF's renderer, as are indented answers
(``Accept: application/json; indent=4``) and everything when DRF's JSON settings are not their defaults.
Where the two differ, for values no answer holds: a float written in exponent form (orjson's ``1e-5``
for Python's ``1e-05``, the same number), a NaN float (``null``, where DRF's strict encoder fails), and a
plain ``Enum`` or a non-string key DRF cannot write (written, where DRF fails).
Measured: bench/README.md, "Issue 23, second stop".
"""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_DRF = JSONEncoder()
OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_PASSTHROUGH_SUBCLASS)


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (data is None or self.ensure_ascii or not self.compact or not self.strict
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        consumed = []

        def default(value):
            # As the standard encoder writes a subclass: a str's or an int's own value, a dict through its
            # items(), a list or tuple through its iteration.
            if isinstance(value, str):
                return str.__str__(value)
            if isinstance(value, int):
                return int(value)
            if isinstance(value, float):
                return float(value)
            if isinstance(value, dict):
                return dict(value.items())
            if isinstance(value, (list, tuple)):
                return list(value)
            if hasattr(value, "__next__"):
                consumed.append(value)  # a one-shot iterator: it could not be written a second time
            return _DRF.default(value)

        try:
            out = orjson.dumps(data, default=default, option=OPTIONS)
        except orjson.JSONEncodeError:
            if consumed:
                raise
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:  # as DRF: JSON that is also valid JavaScript
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out


_RENDERER = JSONRenderer()


def dumps(data) -> str:
    """``data`` as the API's answers write it."""
    return _RENDERER.render(data).decode()
