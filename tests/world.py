"""The one shared world of the tests: two customers with real money in every currency, a card, transfers
(internal, external, reversed), a bill, an incident, a blacklisted network, a pending approval, and
staff of every role with their bearer headers. The ``world`` fixture (tests/conftest.py) builds it."""

from dataclasses import dataclass, field
from decimal import Decimal

from rest_framework.test import APIClient

from api import roles
from api.models import Account, Approval, BillPayment, Card, Notification, Transaction, User
from api.services.accounts import card_issue
from api.services.approvals import staff_reversal
from api.services.bills import bill_pay
from api.services.transfers import reverse_transaction, transfer_external, transfer_internal
from risk.models import BlockedIP, Incident
from tests.factories import AccountFactory, BillerFactory, StaffFactory, UserFactory
from tests.factories import bearer as bearer_header

# Staff members with one role each (the teller is kept on the world), and one with none.
STAFF_ROLES = {"supervisor": [roles.SUPERVISOR], "risk": [roles.RISK_ANALYST], "auditor": [roles.AUDITOR],
               "norole": []}


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": bearer_header(user)}


@dataclass
class World:
    """Customer A owns one account of each currency, a card, transfers and a bill; B owns one account."""

    a: User
    b: User
    staff: User
    a_jod: Account
    a_usd: Account
    a_eur: Account
    b_jod: Account
    card: Card
    internal: Transaction
    external: Transaction
    reversed_txn: Transaction
    bill: BillPayment
    biller_id: int
    incident: Incident
    blocked: BlockedIP
    approval: Approval
    teller: User
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def client(self, user) -> APIClient:
        """An API client logged in as ``user`` (a bearer token)."""
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer_header(user))
        return client

    @property
    def a_accounts(self) -> list[str]:
        return [self.a_jod.pk, self.a_usd.pk, self.a_eur.pk]


def build_world() -> World:
    staff = StaffFactory()
    a, b = UserFactory(), UserFactory()
    a_jod = AccountFactory(owner=a, type=Account.Type.SAVINGS, funded=Decimal("5000"))
    a_usd = AccountFactory(owner=a, type=Account.Type.USD, funded=Decimal("5000"))
    a_eur = AccountFactory(owner=a, type=Account.Type.EUR, funded=Decimal("5000"))
    b_jod = AccountFactory(owner=b, type=Account.Type.SAVINGS, funded=Decimal("100"))
    card, _, _ = card_issue(account=a_jod, card_type=Card.Type.DEBIT)
    internal = transfer_internal(user=a, sender_number=a_jod.pk, receiver_number=a_usd.pk, amount=Decimal("10"),
                                 description="internal", idempotency_key=None)
    external = transfer_external(user=a, sender_number=a_jod.pk, receiver_number=b_jod.pk, amount=Decimal("20"),
                                 description="external", idempotency_key=None)
    to_reverse = transfer_external(user=a, sender_number=a_usd.pk, receiver_number=b_jod.pk, amount=Decimal("5"),
                                   description="to reverse", idempotency_key=None)
    reverse_transaction(staff=staff, transaction_id=to_reverse.pk, reason="setup")
    biller = BillerFactory()
    bill = bill_pay(user=a, account_number=a_jod.pk, biller_id=biller.pk, amount=Decimal("3.5"), reference="REF-1",
                    idempotency_key=None)
    incident = Incident.objects.create(code="velocity", event="Suspicious transaction velocity", severity="high",
                                       subject=str(a.pk), dedup_key=f"velocity:{a.pk}:hardening", user=a)
    blocked = BlockedIP.objects.create(cidr="203.0.113.0/24", reason="documentation range")  # never a test client
    # Written after commit in the app; a test transaction never commits, so the world writes one itself.
    Notification.objects.create(user=a, kind=Notification.Kind.TRANSFER_OUT, title="Money sent",
                                data={"transaction_id": str(external.pk), "account": a_jod.pk})
    teller = StaffFactory(roles=[roles.TELLER])
    approval = staff_reversal(staff=teller, transaction_id=external.pk, reason="pending in the world")
    world = World(a=a, b=b, staff=staff, a_jod=a_jod, a_usd=a_usd, a_eur=a_eur, b_jod=b_jod, card=card,
                  internal=internal, external=external, reversed_txn=to_reverse, bill=bill, biller_id=biller.pk,
                  incident=incident, blocked=blocked, approval=approval, teller=teller)
    world.headers = {"anonymous": {}, "customer": bearer(a), "other": bearer(b), "staff": bearer(staff),
                     "teller": bearer(teller),
                     **{name: bearer(StaffFactory(roles=groups)) for name, groups in STAFF_ROLES.items()}}
    return world
