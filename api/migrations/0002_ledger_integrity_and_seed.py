"""Database-enforced ledger rules and reference data.

* Legs of a transaction sum to zero per currency: a deferred constraint trigger checks each
  transaction at commit, whatever code (or SQL) inserted the rows.
* Ledger entries are append-only: UPDATE and DELETE are refused.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

BALANCED_SQL = """
CREATE OR REPLACE FUNCTION api_ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, SUM(amount) AS total INTO bad
      FROM api_ledgerentry WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger not balanced: transaction % currency % sums to %',
            NEW.transaction_id, bad.currency, bad.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER api_ledger_balanced
    AFTER INSERT ON api_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION api_ledger_check_balanced();

CREATE OR REPLACE FUNCTION api_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'check_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER api_ledger_append_only
    BEFORE UPDATE OR DELETE ON api_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION api_ledger_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS api_ledger_append_only ON api_ledgerentry;
DROP FUNCTION IF EXISTS api_ledger_append_only();
DROP TRIGGER IF EXISTS api_ledger_balanced ON api_ledgerentry;
DROP FUNCTION IF EXISTS api_ledger_check_balanced();
"""

HOUSE_TYPE = {"JOD": "Basic", "USD": "USD", "EUR": "EUR"}
BILLERS = [
    ("Jordan Electric Power Company (JEPCO)", "electricity", "JOD"),
    ("Miyahuna Water", "water", "JOD"),
    ("Orange Jordan", "telecom", "JOD"),
    ("Zain Jordan", "telecom", "JOD"),
    ("Umniah Fiber", "internet", "JOD"),
    ("Income and Sales Tax Department", "government", "JOD"),
]


def seed(apps, schema_editor):
    from api.identifiers import new_account_number

    Account = apps.get_model("api", "Account")
    FxRate = apps.get_model("api", "FxRate")
    Biller = apps.get_model("api", "Biller")
    for role, label in (("vault", "Cash vault"), ("fees", "Fee revenue"), ("fx", "FX position")):
        for currency, type_ in HOUSE_TYPE.items():
            Account.objects.get_or_create(
                role=role, currency=currency,
                defaults={"account_number": new_account_number(), "type": type_, "name": f"{label} {currency}"},
            )
    if not FxRate.objects.exists():
        # The contract's rates, in effect from the earliest date the API accepts (api.bounds).
        since = datetime(2000, 1, 1, tzinfo=UTC)
        FxRate.objects.create(currency="USD", rate=Decimal("1.41"), effective_from=since)
        FxRate.objects.create(currency="EUR", rate=Decimal("1.31"), effective_from=since)
    for name, category, currency in BILLERS:
        if not Biller.objects.filter(name=name).exists():
            settlement = Account.objects.create(
                account_number=new_account_number(), role="settlement", currency=currency,
                type=HOUSE_TYPE[currency], name=f"Settlement: {name}",
            )
            Biller.objects.create(name=name, category=category, currency=currency, settlement_account=settlement)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.RunSQL(BALANCED_SQL, DROP_SQL),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
