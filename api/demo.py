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

# What a response example shows for a field of this name (nexus.openapi: an operation without an example
# of its own gets one built from its schema, with these values): Alice's money in JOD, on the demo bank.
_MONEY = "250.000"
SCHEMA_SAMPLES = {
    "account_number": ALICE_JOD, "account": ALICE_JOD, "sender_account": ALICE_JOD, "receiver_account": BOB_JOD,
    "counterparty_account": BOB_JOD, "email": "alice@nexus.local", "attempted_email": "alice@nexus.local",
    "actor": "supervisor@nexus.local", "requested_by": "teller@nexus.local", "decided_by": "supervisor@nexus.local",
    "first_name": "Alice", "last_name": "Haddad", "country": "JO", "currency": "JOD", "credited_currency": "JOD",
    "amount": _MONEY, "balance": "4750.000", "balance_after": "4750.000", "fee_amount": "0.000",
    "credited_amount": _MONEY, "debited_amount": _MONEY, "converted_amount": _MONEY, "daily_limit": "10000.000",
    "sender_balance_after": "4750.000", "receiver_balance_after": "5250.000",
    "total_transferred_amount": "12500.000", "avg_transaction_value": _MONEY, "fee_revenue": "35.000",
    "net_revenue": "35.000", "bill_payments_amount": "180.000", "deposits_amount": "10000.000",
    "rate": "0.709000", "fx_rate": "0.709000", "ip": "203.0.113.7", "cidr": "203.0.113.0/24",
    "description": "Rent, March", "reason": "Customer called: card stolen", "title": "Money sent",
    "body": "250.000 JOD sent from 100000000016 to 200000000014.", "name": "Jordan Electricity", "last4": "4242",
    "masked_number": "**** **** **** 4242", "user_agent": "NexusApp/1.0 (Android 14)", "reference": "100200300",
    "object_type": "account", "object_id": ALICE_JOD, "request_id": "5b1e0c4e8a0f4b5d", "note": "Checked with the customer.",
    "event": "Suspicious transaction velocity", "code": "velocity", "message": "Done.", "mfa_token": "eyJ0eXAi...",
    "access": "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.signature", "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiIyIn0.signature",
    "secret": "JBSWY3DPEHPK3PXP", "otpauth_url": "otpauth://totp/Nexus%20Bank:alice%40nexus.local?secret=JBSWY3DPEHPK3PXP&issuer=Nexus%20Bank",
    "card_number": "4000001234567899", "cvv": "123", "blocked_reason": "Reported stolen phone",
    "decision_reason": "Checked the receipt.", "next": None, "previous": None,
}
