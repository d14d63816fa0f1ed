"""The commands of :func:`api.services.money_request.run`: what one money request asks the bank to do.

A command is plain data (its fields are the validated request) with two methods the request service
calls: ``needs_code`` (before the transaction: does this payment need a second-factor code?) and
``execute`` (inside it: lock, check, book, through the service that owns the rule). ``kind`` is the
money movement a refusal is reported as (None when the request is not itself one, e.g. approving), and
``reported_account`` the account it is reported against.
"""

import datetime as dt
import uuid
from abc import abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from .. import selectors
from ..models import Transaction, User
from . import approvals, bills, mfa, standing, transfers
from .money_request import Command

Kind = Transaction.Kind


class Payment(Command):
    """A command that pays someone out of a customer's account, with step-up (contract v1.2, v1.3):
    ``amount`` worth at least ``STEP_UP_THRESHOLD`` needs a code; a code sent is always checked (and the
    payment then counts as confirmed). Below the threshold the service may still ask for one: the daily
    total of payments made without a code (api.services.stepup)."""

    amount: Decimal

    @abstractmethod
    def currency(self, user: User) -> str | None:
        """The currency ``amount`` is in, for this caller; None when the service will refuse as for anyone."""

    def needs_code(self, user: User, otp: str | None) -> bool:
        if not otp and mfa.below_step_up_in_any_currency(self.amount):
            return False  # no look-up needed
        currency = self.currency(user)
        if currency is None:  # not the caller's account, or no such biller: the service answers as for anyone
            return False
        transfers.check_amount(self.amount, currency)  # too many decimals: 400 comes before the step-up
        return bool(otp) or mfa.needs_step_up(self.amount, currency)


@dataclass(frozen=True)
class InternalTransfer(Command):
    """Between two of the caller's own accounts: no fee, no step-up."""

    sender_account: str
    receiver_account: str
    amount: Decimal
    description: str = ""
    kind = Kind.INTERNAL
    answers_posting = True
    service = staticmethod(transfers.transfer_internal)

    @property
    def reported_account(self):
        return self.sender_account

    def execute(self, *, user, key, stepped_up):
        return self.service(user=user, sender_number=self.sender_account, receiver_number=self.receiver_account,
                            amount=self.amount, description=self.description, idempotency_key=key,
                            stepped_up=stepped_up)


@dataclass(frozen=True)
class ExternalTransfer(Payment, InternalTransfer):
    """To any other customer's account: a fee, and step-up for a large amount (in the sender's currency)."""

    kind = Kind.EXTERNAL
    service = staticmethod(transfers.transfer_external)

    def currency(self, user):
        return selectors.account_currency(user, self.sender_account)


@dataclass(frozen=True)
class PayBill(Payment):
    account: str
    biller: int
    amount: Decimal
    reference: str
    kind = Kind.BILL

    @property
    def reported_account(self):
        return self.account

    def currency(self, user):  # ``amount`` is in the biller's currency
        return selectors.biller_currency(self.biller)

    def execute(self, *, user, key, stepped_up):
        return bills.bill_pay(user=user, account_number=self.account, biller_id=self.biller,
                              amount=self.amount, reference=self.reference, idempotency_key=key,
                              stepped_up=stepped_up)


@dataclass(frozen=True)
class CreateStandingOrder(Payment):
    """Not a movement itself (its runs are, each a transfer of its own): a refusal is not reported as one.
    It asks for a code as an external transfer of the amount would."""

    sender_account: str
    receiver_account: str
    amount: Decimal
    interval: str
    first_date: dt.date
    end_date: dt.date | None = None
    description: str = ""

    def currency(self, user):
        return selectors.account_currency(user, self.sender_account)

    def execute(self, *, user, key, stepped_up):
        return standing.create_order(user=user, sender_number=self.sender_account,
                                     receiver_number=self.receiver_account, amount=self.amount,
                                     interval=self.interval, first_date=self.first_date, end_date=self.end_date,
                                     description=self.description, stepped_up=stepped_up)


@dataclass(frozen=True)
class Deposit(Command):
    """A teller's cash deposit: the transaction, or the approval request dual control holds it as."""

    account_number: str
    amount: Decimal
    description: str = ""
    kind = Kind.DEPOSIT

    @property
    def reported_account(self):
        return self.account_number

    def execute(self, *, user, key, stepped_up):
        return approvals.staff_deposit(staff=user, account_number=self.account_number, amount=self.amount,
                                       description=self.description, idempotency_key=key)


@dataclass(frozen=True)
class Reverse(Command):
    """The compensating transaction, or the approval request dual control holds it as."""

    transaction_id: uuid.UUID
    reason: str
    kind = Kind.REVERSAL

    def execute(self, *, user, key, stepped_up):
        return approvals.staff_reversal(staff=user, transaction_id=self.transaction_id, reason=self.reason,
                                        idempotency_key=key)


@dataclass(frozen=True)
class Approve(Command):
    """Apply a held request: its transaction, or the account of an approved daily-limit increase.
    Idempotent like every POST that moves money; its refusals are not money refusals (no ``kind``)."""

    approval_id: uuid.UUID

    def execute(self, *, user, key, stepped_up):
        return approvals.approval_approve(approver=user, approval_id=self.approval_id)[1]
