from decimal import Decimal

from django.db.models import Sum

from api import roles
from api.models import Account, LedgerEntry, Transaction
from api.services import approvals
from api.services.transfers import transfer_external
from tests.factories import AccountFactory, StaffFactory, UserFactory


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


def held_reversal():
    """A teller's reversal of an external transfer, approved by a supervisor: (teller, supervisor, original,
    reversal, approval)."""
    teller, supervisor = StaffFactory(roles=[roles.TELLER]), StaffFactory(roles=[roles.SUPERVISOR])
    alice = UserFactory()
    sender = AccountFactory(owner=alice, funded=Decimal("100.000"))
    original = transfer_external(user=alice, sender_number=sender.pk, receiver_number=AccountFactory().pk,
                                 amount=Decimal("30.000"))
    approval = approvals.staff_reversal(staff=teller, transaction_id=original.pk, reason="Wrong payee")
    approval, reversal = approvals.approval_approve(approver=supervisor, approval_id=approval.pk)
    return teller, supervisor, original, reversal, approval
