"""The demo bank's fixed account numbers (``manage.py seed_demo``), with valid check digits.

The examples in Swagger UI (api.views.common) and docs/API.md name these accounts, so an example pasted
against the demo bank (``python3 scripts/run.py``) acts on accounts that exist.
"""

ALICE_JOD, ALICE_USD, ALICE_EUR = "100000000016", "100000000024", "100000000032"
BOB_JOD, BOB_USD, BOB_EUR = "200000000014", "200000000022", "200000000030"
ACCOUNTS = {
    ("alice@nexus.local", "Savings"): ALICE_JOD, ("alice@nexus.local", "USD"): ALICE_USD,
    ("alice@nexus.local", "EUR"): ALICE_EUR, ("bob@nexus.local", "Savings"): BOB_JOD,
    ("bob@nexus.local", "USD"): BOB_USD, ("bob@nexus.local", "EUR"): BOB_EUR,
}
