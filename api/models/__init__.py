import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .. import bounds, money
from ..identifiers import new_account_number

AMOUNT = {"max_digits": 20, "decimal_places": 3}


class Currency(models.TextChoices):
    JOD = "JOD", "Jordanian dinar"
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        # Emails are stored lower-case: every login surface (the API, the admin form) matches alike.
        return self.get(email=str(username).strip().lower())


class User(AbstractUser):
    """A person who logs in with an email address. There is no username."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None
    email = models.EmailField("email address", unique=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    # Copied into every access and refresh token; a token whose version is not the user's current
    # one is refused. Raising it (api.services.sessions) revokes every token issued before. The
    # database never lets it go down, so saving a stale copy of the user cannot revive tokens.
    token_version = models.PositiveIntegerField(default=0, editable=False)
    # Staff block a user (api.services.users): no login, no token works, until unblocked.
    blocked_at = models.DateTimeField(null=True, blank=True, editable=False)
    blocked_reason = models.CharField(max_length=255, blank=True, editable=False)
    # Step-up across requests (v1.3, api.services.stepup): the running total, in JOD, of the user's payments
    # made without a second-factor code (the latest ``Transaction.uncoded_total``), read with the lock on
    # this row that such payments take, and written by the posting statement.
    uncoded_total = models.DecimalField(max_digits=24, decimal_places=3, default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta(AbstractUser.Meta):
        permissions = [("block_user", "Can block users and revoke their sessions"),
                       ("reset_twofactor", "Can reset a user's two-factor authentication")]

    def __str__(self):
        return self.email

    def _get_session_auth_hash(self, secret=None):
        """A back-office (Django) session is valid while the password *and* the token version are the ones it
        was opened under: raising ``token_version`` (api.services.sessions.end_sessions) ends every admin
        session on every worker at the next request, like every API token (contract v1.3)."""
        return salted_hmac("api.User.session", f"{self.password}:{self.token_version}", secret=secret,
                           algorithm="sha256").hexdigest()


class Account(models.Model):
    class Type(models.TextChoices):
        SAVINGS = "Savings", "Savings account"
        SALARY = "Salary", "Salary account"
        BASIC = "Basic", "Basic account"
        USD = "USD", "USD account"
        EUR = "EUR", "EUR account"

    class Role(models.TextChoices):
        """Customer accounts, and the bank's own (house) accounts that hold the other ledger legs."""

        CUSTOMER = "customer", "Customer"
        VAULT = "vault", "Cash vault"
        FEES = "fees", "Fee revenue"
        FX = "fx", "FX position"
        SETTLEMENT = "settlement", "Biller settlement"

    TYPE_CURRENCY = {
        Type.SAVINGS: Currency.JOD,
        Type.SALARY: Currency.JOD,
        Type.BASIC: Currency.JOD,
        Type.USD: Currency.USD,
        Type.EUR: Currency.EUR,
    }
    DEFAULT_DAILY_LIMIT = Decimal("10000")

    account_number = models.CharField(primary_key=True, max_length=12, default=new_account_number, editable=False)
    owner = models.ForeignKey(
        "api.User", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.CUSTOMER)
    # Only customer balances are kept on the row. House accounts are never updated in the money
    # path (that row would serialise every transfer); their balance is the sum of their entries.
    balance = models.DecimalField(**AMOUNT, default=Decimal("0"))
    # Staff edit it (admin, API): the same bound as every amount a client sends.
    daily_limit = models.DecimalField(**AMOUNT, default=DEFAULT_DAILY_LIMIT, validators=[bounds.validate_amount])
    # What the daily limit counts: ``spent_amount``, the outgoing amounts of the bank day ``spent_on``
    # (Asia/Amman), whichever day that was (``spent_on_day`` reads it for a given day). Kept by every
    # posting on the locked row (api.services.ledger), so checking the limit reads no transfers;
    # ``manage.py verify_ledger`` recomputes it from the transactions.
    spent_on = models.DateField(null=True, blank=True, editable=False)
    spent_amount = models.DecimalField(**AMOUNT, default=Decimal("0"), editable=False)
    is_active = models.BooleanField(default=True)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        # v1.3: each power its own permission (api.roles says which role holds which).
        permissions = [("freeze_account", "Can freeze accounts"),
                       ("unfreeze_account", "Can unfreeze accounts"),
                       ("change_account_limit", "Can change an account's daily limit")]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_non_negative",
                                   violation_error_message="A balance cannot be negative."),
            models.CheckConstraint(condition=Q(daily_limit__gte=0), name="account_daily_limit_non_negative",
                                   violation_error_message="A daily limit cannot be negative: enter zero or more."),
            models.CheckConstraint(condition=Q(spent_amount__gte=0), name="account_spent_amount_non_negative",
                                   violation_error_message="The amount spent today cannot be negative."),
            models.CheckConstraint(
                condition=Q(role="customer", owner__isnull=False) | (~Q(role="customer") & Q(owner__isnull=True)),
                name="account_owner_matches_role",
                violation_error_message="A customer account has an owner; the bank's own accounts have none.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=money.CURRENCIES), name="account_currency_known",
                violation_error_message="The currency must be one the bank keeps (JOD, USD or EUR).",
            ),
            # House accounts of one role and currency are unique, except biller settlement accounts.
            models.UniqueConstraint(
                fields=["role", "currency"],
                condition=Q(role__in=["vault", "fees", "fx"]),
                name="account_one_house_account_per_role_currency",
                violation_error_message="The bank already has its own account of this role and currency.",
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="account_owner_created")]

    def __str__(self):
        if self.is_house:
            return f"{self.get_role_display()} {self.currency} {self.account_number}"
        # "USD" and "EUR" accounts are named after their currency: "(USD, USD)" would say it twice.
        kind = self.type if self.type == self.currency else f"{self.type}, {self.currency}"
        return f"{self.account_number} ({kind})"

    def spent_on_day(self, day) -> Decimal:
        """Outgoing amounts counted against the daily limit on bank day ``day``."""
        return self.spent_amount if self.spent_on == day else Decimal(0)

    @property
    def is_house(self) -> bool:
        return self.role != self.Role.CUSTOMER


class Card(models.Model):
    class Type(models.TextChoices):
        DEBIT = "DEBIT", "Debit"
        CREDIT = "CREDIT", "Credit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="cards")
    card_type = models.CharField(max_length=6, choices=Type.choices)
    # The full number is never stored: last four digits for display and a keyed HMAC fingerprint
    # to find a card by number. The CVV is not stored at all.
    last4 = models.CharField(max_length=4)
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    expiration_date = models.DateField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.card_type} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return f"**** **** **** {self.last4}"


FX_RATE_TAKEN = ("A rate for this currency already takes effect at this moment: choose another time (history is "
                 "kept; a published rate is never replaced).")


class FxRate(models.Model):
    """Units of ``currency`` for one JOD, effective from a moment; history is kept."""

    currency = models.CharField(max_length=3, choices=[(c, c) for c in ("USD", "EUR")])
    rate = models.DecimalField(max_digits=12, decimal_places=6)
    effective_from = models.DateTimeField(default=timezone.now, validators=[bounds.validate_date])
    created_by = models.ForeignKey("api.User", null=True, blank=True, on_delete=models.SET_NULL, editable=False)

    class Meta:
        ordering = ["-effective_from"]
        get_latest_by = "effective_from"
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="fxrate_positive",
                                   violation_error_message="A rate must be above zero."),
            # Two rates of one currency from the same moment would leave which one applies to chance. Its index
            # also serves the history's reads (newest first: a B-tree reads backwards as fast).
            models.UniqueConstraint(fields=["currency", "effective_from"], name="fxrate_one_per_moment",
                                    violation_error_message=FX_RATE_TAKEN),
        ]

    def __str__(self):
        return f"1 JOD = {self.rate} {self.currency} from {self.effective_from:%Y-%m-%d %H:%M}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal transfer"
        EXTERNAL = "external", "External transfer"
        DEPOSIT = "deposit", "Deposit"
        BILL = "bill", "Bill payment"
        REVERSAL = "reversal", "Reversal"

    class Status(models.TextChoices):
        SUCCESS = "SUCCESS", "Success"
        FAILED = "FAILED", "Failed"
        REVERSED = "REVERSED", "Reversed"

    # Money leaving a customer's account at their request: counted against the daily limit, screened
    # by the velocity rule. Deposits and reversals are staff operations, not outgoing transfers.
    OUTGOING_KINDS = (Kind.INTERNAL, Kind.EXTERNAL, Kind.BILL)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUCCESS)
    # Indexed by txn_sender_created / txn_receiver_created (leading column): a separate foreign
    # key index (and its varchar_pattern_ops twin) would only cost every insert.
    sender_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outgoing", db_index=False)
    receiver_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="incoming", db_index=False)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    fee_amount = models.DecimalField(**AMOUNT, default=Decimal("0"))
    credited_amount = models.DecimalField(**AMOUNT)
    credited_currency = models.CharField(max_length=3, choices=Currency.choices)
    fx_rate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    sender_balance_after = models.DecimalField(**AMOUNT, null=True, blank=True)
    receiver_balance_after = models.DecimalField(**AMOUNT, null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    initiated_by = models.ForeignKey(  # indexed by txn_initiator_created
        "api.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    # Step-up across requests (v1.3, api.services.stepup): on a payment made without a second-factor code,
    # the JOD-equivalent of every such payment of its initiator so far, this one included (a running total,
    # written under a lock on the initiator's row); null on every other transaction. The total of the last
    # 24 hours is then the latest value (kept on the user's row too) minus the latest one from before the
    # window, found on txn_initiator_created (a partial index of its own cost every payment an insert).
    uncoded_total = models.DecimalField(max_digits=24, decimal_places=3, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("make_deposit", "Can make cash deposits"),
            ("request_reversal", "Can request the reversal of a transaction"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_positive",
                                   violation_error_message="An amount must be above zero."),
            models.CheckConstraint(condition=Q(credited_amount__gt=0), name="transaction_credited_positive",
                                   violation_error_message="The amount credited must be above zero."),
            models.CheckConstraint(condition=Q(fee_amount__gte=0), name="transaction_fee_non_negative",
                                   violation_error_message="A fee cannot be negative."),
            models.CheckConstraint(
                condition=~Q(sender_account=F("receiver_account")), name="transaction_distinct_accounts",
                violation_error_message="The sender and the receiver must be different accounts.",
            ),
        ]
        indexes = [
            models.Index(fields=["sender_account", "-created_at"], name="txn_sender_created"),
            models.Index(fields=["receiver_account", "-created_at"], name="txn_receiver_created"),
            models.Index(fields=["kind", "-created_at"], name="txn_kind_created"),
            models.Index(fields=["created_at"], name="txn_created"),
            # The risk velocity rule: a user's transfers of the last 15 minutes, after every transfer.
            models.Index(fields=["initiated_by", "-created_at"], name="txn_initiator_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {money.fmt(self.amount, self.currency)} {self.currency} ({str(self.id)[:8]})"


class LedgerEntry(models.Model):
    """One leg of a double-entry posting. Legs of a transaction sum to zero per currency.

    Enforced by a deferred constraint trigger (migration 0002); rows are append-only.
    """

    class Purpose(models.TextChoices):
        PRINCIPAL = "principal", "Principal"
        FEE = "fee", "Fee"
        FX = "fx", "FX conversion"

    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(  # indexed by ledger_account_created
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    amount = models.DecimalField(**AMOUNT, help_text="Signed: negative debits, positive credits.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.PRINCIPAL)
    # Only for customer accounts (house account balances are derived from their entries).
    balance_after = models.DecimalField(**AMOUNT, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_non_zero",
                                              violation_error_message="A ledger line cannot be zero.")]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="ledger_account_created")]

    def __str__(self):
        return f"{self.account_id} {money.fmt(self.amount, self.currency)} {self.currency}"


class Approval(models.Model):
    """A staff request held for a second pair of eyes (dual control): the command's validated input.

    Approving runs the same service as the direct call, under a row lock on this request, so two
    approvers cannot both apply it.
    """

    class Action(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        REVERSAL = "reversal", "Reversal"
        LIMIT_CHANGE = "limit_change", "Daily limit increase"  # v1.3: amount is the new limit

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"  # v1.3: the requester was blocked or deactivated

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    action = models.CharField(max_length=20, choices=Action.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # What the command acts on: the account of a deposit, the transaction of a reversal.
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target_transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    description = models.CharField(max_length=255, blank=True, help_text="Deposit description or reversal reason.")
    requested_by = models.ForeignKey("api.User", on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey("api.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=255, blank=True)
    result = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="approval")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("decide_approval", "Can approve or reject dual-control requests")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="approval_amount_positive",
                                   violation_error_message="An amount must be above zero."),
            models.CheckConstraint(
                condition=(Q(action__in=["deposit", "limit_change"], account__isnull=False)
                           | Q(action="reversal", target_transaction__isnull=False)),
                name="approval_has_target",
                violation_error_message="A deposit or limit change names an account; a reversal names a transaction.",
            ),
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="approval_four_eyes",
                                   violation_error_message="A request is approved or rejected by someone other than "
                                                           "its requester."),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="approval_status_created")]

    def __str__(self):
        return f"{self.get_action_display()} {money.fmt(self.amount, self.currency)} {self.currency} ({self.status})"


class AuditRecord(models.Model):
    """What a staff member did to money or risk state: append-only, enforced by a trigger (migration 0006)."""

    class Action(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        REVERSAL = "reversal", "Reversal"
        ACCOUNT_UPDATE = "account_update", "Account update"
        FX_RATE_CHANGE = "fx_rate_change", "FX rate change"
        INCIDENT_UPDATE = "incident_update", "Incident update"
        BLACKLIST_ADD = "blacklist_add", "Blacklist add"
        BLACKLIST_REMOVE = "blacklist_remove", "Blacklist remove"
        USER_UPDATE = "user_update", "User update"
        APPROVAL_REQUEST = "approval_request", "Approval request"
        APPROVAL_APPROVE = "approval_approve", "Approval approved"
        APPROVAL_REJECT = "approval_reject", "Approval rejected"
        # v1.3
        APPROVAL_CANCEL = "approval_cancel", "Approval cancelled"
        ROLE_CHANGE = "role_change", "Role change"
        PASSWORD_RESET = "password_reset", "Password reset"
        LOCKOUT_UNLOCK = "lockout_unlock", "Lockout unlock"
        TWOFA_RESET = "twofa_reset", "Two-factor reset"
        STANDING_ORDER_CANCEL = "standing_order_cancel", "Standing order cancelled"

    id = models.BigAutoField(primary_key=True)
    # The email is kept as it was: the record must read the same after the user changes.
    actor = models.ForeignKey("api.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    actor_email = models.CharField(max_length=254)
    action = models.CharField(max_length=30, choices=Action.choices)
    object_type = models.CharField(max_length=30)
    # The id by which the API addresses the object: account number, UUID, email.
    object_id = models.CharField(max_length=254)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["-timestamp", "-id"], name="audit_time"),
            models.Index(fields=["actor", "-timestamp"], name="audit_actor_time"),
            models.Index(fields=["object_id", "-timestamp"], name="audit_object_time"),
            models.Index(fields=["action", "-timestamp"], name="audit_action_time"),
        ]

    def __str__(self):
        return f"{self.actor_email} {self.action} {self.object_type} {self.object_id}"


# Each in a module of its own; they refer to the models above.
from .bills import Biller, BillPayment  # noqa: E402, F401
from .idempotency import IdempotencyBody, IdempotencyRecord  # noqa: E402, F401
from .notifications import Notification  # noqa: E402, F401
from .security import MfaChallenge, RecoveryCode, TwoFactor  # noqa: E402, F401
from .standing import StandingOrder, StandingOrderRun  # noqa: E402, F401
