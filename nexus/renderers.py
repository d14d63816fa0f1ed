"""The API's JSON answers, written by orjson.

DRF's ``JSONRenderer`` writes with the standard library's encoder, in Python for every value. This one
gives the same bytes for everything the API answers: compact, UTF-8, keys in order, ``\\u2028`` and
``\\u2029`` escaped; a UUID as its text; a decimal, a datetime, a date, a lazy translation and anything
else orjson does not write itself through DRF's own encoder (``default``), so a time still ends in ``Z``
and an amount stays a string. What orjson refuses (an integer past 64 bits, an indented answer asked for
with ``Accept: application/json; indent=4``) is written by DRF's renderer, unchanged. Two differences, for
values no answer holds: a float in exponent form is written ``1e-8`` where Python writes ``1e-08`` (the same
number), and a NaN float is ``null`` where DRF's strict encoder fails.
Measured: bench/README.md, "Where a request's CPU goes".
"""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_DRF = JSONEncoder()
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_DRF.default, option=OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:  # as DRF: JSON that is also valid JavaScript
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out


_RENDERER = JSONRenderer()


def dumps(data) -> str:
    """``data`` as the API's answers write it."""
    return _RENDERER.render(data).decode()
