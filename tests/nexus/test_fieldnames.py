"""Fields and filters named ``from`` are declared one way: ``from_`` and nexus.fieldnames (issue 13).

They were added after each class by patching ``_declared_fields["from"]`` or
``base_filters["from"]``, five times, each differently.
"""

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
