"""Fields and filters named ``from`` are declared one way: ``from_`` and nexus.fieldnames (issue 13).

They were added after each class by patching ``_declared_fields["from"]`` or
``base_filters["from"]``, five times, each differently.
"""

import copy
import datetime as dt
import re
from pathlib import Path

from api.serializers import FxQuoteQuerySerializer, FxQuoteSerializer
from api.views.accounts import StatementQuerySerializer
from api.views.audit import AuditFilter
from business.serializers import Last30Serializer, RangeQuerySerializer
from nexus.fieldnames import public_name
from risk.filters import IncidentFilter

ROOT = Path(__file__).resolve().parents[2]
PATCHED = re.compile(r"(_declared_fields|base_filters|declared_filters)\[")


def test_no_class_is_patched_after_it_is_made():
    for app in ("api", "business", "nexus", "risk"):
        for path in (ROOT / app).rglob("*.py"):
            assert not PATCHED.search(path.read_text()), f"{path.relative_to(ROOT)}: declare `from_` instead"


def test_a_trailing_underscore_names_only_a_keyword():
    assert [public_name(name) for name in ("from_", "to", "class_", "amount_", "from")] == \
           ["from", "to", "class", "amount_", "from"]


def test_every_from_is_a_field_or_filter_named_from():
    for serializer in (FxQuoteQuerySerializer(), FxQuoteSerializer(), StatementQuerySerializer(),
                       RangeQuerySerializer(), Last30Serializer()):
        assert "from" in serializer.fields and "from_" not in serializer.fields, type(serializer).__name__
    for filterset in (AuditFilter, IncidentFilter):
        assert "from" in filterset.base_filters and "from_" not in filterset.base_filters, filterset.__name__


def test_from_is_read_validated_and_refused_under_its_own_name():
    query = StatementQuerySerializer(data={"from": "2026-03-02", "to": "2026-03-01"})
    assert not query.is_valid() and list(query.errors) == ["from"]
    query = StatementQuerySerializer(data={"from": "2026-03-01"})
    assert query.is_valid() and query.validated_data == {"from": dt.date(2026, 3, 1)}
    query = StatementQuerySerializer(data={"from": "1999-12-31"})
    assert not query.is_valid() and list(query.errors) == ["from"]
    assert FxQuoteSerializer({"from": "USD", "to": "EUR", "amount": "1.00", "converted_amount": "0.92",
                              "rate": "0.92"}).data["from"] == "USD"


# --- PlainFields: fields copied shallowly, each serializer's own -----------------------------------

def _every_request_serializer():
    from rest_framework import serializers as drf

    from nexus.fieldnames import PlainFields

    seen, todo = set(), [PlainFields]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return [cls for cls in seen if issubclass(cls, drf.Serializer) and cls.__module__.split(".")[0] in
            ("api", "business", "risk", "nexus")]


def test_each_serializer_gets_fields_of_its_own_bound_to_itself():
    from rest_framework import serializers as drf

    classes = _every_request_serializer()
    assert len(classes) > 20  # every request body and query serializer
    for cls in classes:
        first, second = cls(context={"n": 1}), cls(context={"n": 2})
        assert list(first.fields) == list(second.fields), cls
        for name, field in first.fields.items():
            other = second.fields[name]
            assert field is not other and field is not cls._declared_fields.get(name), (cls, name)
            assert field.parent is first and other.parent is second, (cls, name)
            assert field.context == {"n": 1} and other.context == {"n": 2}, (cls, name)
            assert field.validators is not other.validators, (cls, name)
            child = getattr(field, "child", None)
            if isinstance(child, drf.Field):  # held fields are copied deeply, as DRF does
                assert child is not other.child and child.parent is field, (cls, name)


def _deep_fields(self):
    """DRF's own copy of the declared fields (then named as KeywordFields names them)."""
    return {public_name(name): field for name, field in copy.deepcopy(self._declared_fields).items()}


def test_validation_is_what_deep_copies_give():
    from api.serializers import ExternalTransferCreateSerializer, RegisterSerializer
    from api.views.accounts import StatementQuerySerializer

    cases = [
        (ExternalTransferCreateSerializer, {"sender_account": "1", "receiver_account": 12, "amount": "1.0001",
                                            "idempotency_key": "x" * 65, "otp": "123456"}),
        (ExternalTransferCreateSerializer, {"sender_account": "100000000001", "amount": "10"}),
        (RegisterSerializer, {"email": "not-an-email", "password": ""}),
        (StatementQuerySerializer, {"from": "2026-02-30", "to": ""}),
        (StatementQuerySerializer, {"from": "2026-01-01", "to": "2026-01-31"}),
    ]
    for cls, data in cases:
        cheap = cls(data=data)
        deep = type("Deep", (cls,), {"get_fields": _deep_fields})(data=data)
        assert cheap.is_valid() == deep.is_valid(), (cls, data)
        assert copy.deepcopy(cheap.errors) == copy.deepcopy(deep.errors), (cls, data)
        assert dict(cheap.validated_data) == dict(deep.validated_data), (cls, data)


def test_a_plain_copy_is_what_copy_copy_makes():
    from nexus.fieldnames import _copy, _holds_fields

    for cls in _every_request_serializer():
        for name, field in cls._declared_fields.items():
            if _holds_fields(field):
                continue
            assert not hasattr(type(field), "__copy__") and not hasattr(type(field), "__slots__"), (cls, name)
            ours, standard = _copy(field), copy.copy(field)
            assert type(ours) is type(standard) and vars(ours) == vars(standard), (cls, name)
            assert "_validators" not in vars(field) or ours._validators is not field._validators, (cls, name)
