"""nexus.renderers: orjson writes the very bytes DRF's JSONRenderer writes, for anything an answer holds
(a float in exponent form aside: the same number, written ``1e-8`` where Python writes ``1e-08``)."""

import datetime as dt
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import renderers as drf
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.models import Transaction
from nexus import renderers

OURS, DRF = renderers.JSONRenderer(), drf.JSONRenderer()

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["\u2028", "a\u2029b", "\x00\x1f\"\\/", "é 日本 🙂", "</script>"])
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**63, max_value=2**64 - 1), TEXT,
    # No answer of the API holds a float; one in exponent form is the same number written another way (below).
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).filter(lambda f: "e" not in repr(f)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**12, max_value=10**12),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=3))])),
    st.datetimes(), st.dates(), st.uuids(), st.sampled_from(list(Transaction.Kind)),
    st.builds(ErrorDetail, TEXT, st.sampled_from(["invalid", "required"])),
)
VALUES = st.recursive(
    LEAVES, lambda children: st.lists(children, max_size=4) | st.lists(children, max_size=4).map(tuple)
    | st.dictionaries(st.one_of(TEXT, st.integers(-5, 5)), children, max_size=4)
    | st.builds(lambda items: ReturnDict(items, serializer=None), st.dictionaries(TEXT, children, max_size=3))
    | st.builds(lambda items: ReturnList(items, serializer=None), st.lists(children, max_size=3)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_same_bytes_as_drf(value):
    assert OURS.render(value) == DRF.render(value)


def test_subclasses_are_written_as_the_standard_encoder_sees_them():
    from collections import OrderedDict

    from django.forms.utils import ErrorList
    from django.http import QueryDict

    moved = OrderedDict(a=1, b=2)
    moved.move_to_end("a")
    for value in (QueryDict("a=1&a=2"), ErrorList(["bad"]), moved, {Transaction.Kind.EXTERNAL: [ErrorDetail("x")]},
                  [Transaction.Kind.INTERNAL, 2**63 - 1]):
        assert OURS.render(value) == DRF.render(value), value


def test_a_generator_is_never_written_empty():
    import pytest

    with pytest.raises(Exception):  # noqa: B017, PT011 - DRF's own error would be a 500 too
        OURS.render([(number for number in (1, 2)), 2**70])
    assert OURS.render({"n": (number for number in (1, 2))}) == b'{"n":[1,2]}'


def test_what_orjson_cannot_write_is_written_by_drf():
    odd = {"big": 2**70, "lazy": gettext_lazy("Not found."), "id": uuid.UUID(int=7), "amount": Decimal("1.500"),
           "at": dt.datetime(2026, 12, 6, 17, 0, 0, 123456, tzinfo=dt.UTC)}
    assert OURS.render(odd) == DRF.render(odd)
    assert OURS.render(None) == DRF.render(None) == b""
    assert OURS.render({"a": [1]}, "application/json; indent=4") == DRF.render({"a": [1]}, "application/json; indent=4")
    assert renderers.dumps({"at": odd["at"]}) == '{"at":"2026-12-06T17:00:00.123456Z"}'
    assert (OURS.render([5.960464477539063e-08, 1e16]), DRF.render([5.960464477539063e-08, 1e16])) == (
        b"[5.960464477539063e-8,1e+16]", b"[5.960464477539063e-08,1e+16]")
