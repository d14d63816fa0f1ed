from decimal import Decimal

from django.db.models import Sum

from api.models import Account, LedgerEntry, Transaction


def post_json(client, url, data, **headers):
    return client.post(url, data, format="json", **headers)


def error_code(response) -> str:
    return response.json()["error"]["code"]


def money_snapshot() -> dict:
    """Everything a refused request must leave untouched."""
    return {
        "balances": dict(Account.objects.values_list("account_number", "balance")),
        "transactions": Transaction.objects.count(),
        "entries": LedgerEntry.objects.count(),
    }


def totals_by_currency() -> dict[str, Decimal]:
    """Sum of all ledger legs per currency: zero whenever every transaction balances."""
    return {row["currency"]: row["total"] for row in LedgerEntry.objects.values("currency").annotate(total=Sum("amount"))}
