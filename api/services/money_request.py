"""One path for every request that moves money (or decides a request that does): the API's views, the
approval endpoint and the admin's deposit and reversal pages call :func:`run` once, with a command
(``api.services.commands``), and render its :class:`Outcome` after the commit.

``run`` owns, in this order:

1. for a payment that needs a second-factor code, the **replay** of a request already applied under its
   key (answered without a code); any other request finds its key at the end of its transaction (3.);
2. the **step-up** check of a payment that needs a second-factor code (``api.services.mfa.confirm_step_up``):
   before the transaction, committed on its own (a code used stays used; a wrong one stays counted);
3. the **transaction**: the command runs (lock, check, book), then the key is recorded with the answer's
   status and the result it names, by ``INSERT ... ON CONFLICT DO NOTHING``: when the key was taken first
   (an earlier request, or a concurrent one whose commit the insert waited for on the unique index), the
   transaction rolls back and the earlier outcome is replayed (422 ``idempotency_key_reused`` for another
   request). A command whose answer is always the transaction it posts (``Command.answers_posting``: the
   transfers, a standing order's run included) has that insert made by the posting statement itself
   (``api.queries.OwedRecord``: one round trip fewer). A refusal (any domain error) of a keyed request is answered the same way when its key was
   recorded: a retry of an applied request replays it, even when its money has moved on since. A retry
   thus runs again up to its record and rolls back (retries are rare; a refusal rolls back the same way).
   A refusal of a request whose key another request holds uncommitted answers the refusal;
4. the **deadlock retry**: a deadlock or serialization failure rolled everything back, so the whole
   transaction runs again (at most ``ATTEMPTS`` times);
5. the **refusal**: a business-rule refusal (422) of a money movement is owed as a ``money_refused``
   job, committed on its own since the movement rolled back (``api.reactions.owe_refusal``).

Nothing is rendered while the rows are locked: the caller renders the result after the commit and
:func:`remember` keeps that body (``IdempotencyBody``, an UNLOGGED table: no second WAL flush), so that a
replay answers the very bytes of the first answer. A replay whose body is not there (the first answer is
still on its way, its process died right after the commit, or the database crashed or failed over since)
is rendered from the result the record names.
"""

import hashlib
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import OperationalError
from django.db import transaction as db_transaction
from django.http import HttpRequest
from django.utils import timezone

from nexus import sql

from .. import exceptions, queries
from ..models import Account, Approval, IdempotencyBody, IdempotencyRecord, User
from ..reactions import owe_refusal
from .mfa import confirm_step_up

KEY_PATTERN = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,63}$")
# deadlock_detected, serialization_failure: safe to retry the whole transaction.
RETRYABLE = {"40P01", "40001"}
ATTEMPTS = 3


class Command(ABC):
    """What a money request asks the bank to do (``api.services.commands``): ``needs_code`` is asked
    before the transaction (does this payment need a second-factor code?), ``execute`` runs inside it
    (lock, check, book, through the service that owns the rule). ``kind`` is the money movement a refusal
    is reported as (None when the request is not itself one, e.g. approving), ``reported_account`` the
    account it is reported against."""

    kind: str | None = None
    # True when a posting made by ``execute`` is always the request's answer (201 with that transaction):
    # the posting statement then records the key itself (api.queries.OwedRecord), one round trip fewer.
    answers_posting = False

    @property
    def reported_account(self) -> str | None:
        return None

    def needs_code(self, user: User, otp: str | None) -> bool:
        return False

    @abstractmethod
    def execute(self, *, user: User, key: str | None, stepped_up: bool):
        """Lock, check and book, inside the request's transaction; return the result."""


@dataclass(frozen=True)
class Outcome:
    """What a money request came to: the answer's status, the model instance it names (a transaction,
    an approval request, an account, a bill payment, a standing order), and, for a replay, the body
    first answered (None when it was not stored yet: render ``result``)."""

    status: int
    result: Any
    replayed: bool = False
    body: str | None = None


def _canonical(value):
    # "10", "10.0" and "10.000" are the same amount: the same request.
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def fingerprint(scope: str, payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=_canonical, separators=(",", ":"))
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def _status(result) -> int:
    if isinstance(result, Approval):
        return 202  # held for approval: nothing moved yet
    if isinstance(result, Account):
        return 200  # an approved daily-limit increase: the account, as the direct PATCH answers it
    return 201


def _replayed(record: IdempotencyRecord) -> Outcome:
    result = apps.get_model(record.result_type).objects.get(pk=record.result_id) if record.result_type else None
    body = IdempotencyBody.objects.filter(user_id=record.user_id, key=record.key).values_list("body", flat=True).first()
    return Outcome(status=record.response_status, result=result, replayed=True, body=body)


class _Taken(Exception):
    """The key was recorded by another request first: this one's transaction rolls back."""


def _earlier(user: User, key: str, digest: str) -> Outcome | None:
    """The outcome recorded under the key, when it is this very request's; None when nothing is recorded."""
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    if record.fingerprint != digest:
        raise exceptions.IdempotencyKeyReused()
    if record.response_status is None:  # never committed so by this code; kept for a record written otherwise
        raise exceptions.IdempotencyKeyInUse()
    return _replayed(record)


def _applied(user: User, key: str, digest: str) -> Outcome | None:
    """The outcome of this very request, when it was already applied."""
    record = IdempotencyRecord.objects.filter(user=user, key=key, fingerprint=digest,
                                              response_status__isnull=False).first()
    return None if record is None else _replayed(record)


def run(*, user: User, key: str | None, scope: str, payload: dict, command: Command, otp: str | None = None,
        origin: HttpRequest | None = None) -> Outcome:
    """Apply ``command`` once per (user, key), atomically, and say what came of it.

    ``scope`` and ``payload`` are the request's identity (a retry with the same key must repeat them;
    ``otp`` is not part of it: a retry with a newer code, or none, is the same request). ``origin`` is the
    HTTP request a wrong second-factor code is counted against (the lockout of its email and IP).
    """
    digest = fingerprint(scope, payload) if key else None
    stepped_up = False
    if command.needs_code(user, otp):
        applied = _applied(user, key, digest) if key else None
        if applied is not None:
            return applied
        stepped_up = confirm_step_up(user=user, origin=origin, otp=otp)
    for attempt in range(ATTEMPTS):
        try:
            with db_transaction.atomic():
                owed = queries.OwedRecord(user.pk, key, digest) if key and command.answers_posting else None
                with queries.record_with_posting(owed):
                    result = command.execute(user=user, key=key, stepped_up=stepped_up)
                status = _status(result)
                if owed is not None and owed.taken:
                    if (result.pk, status) != (owed.result_id, 201):  # a command's promise broken: no wrong record
                        raise AssertionError(f"{type(command).__name__} answered other than its posting")
                    recorded = owed.recorded
                else:
                    recorded = not key or queries.record_outcome(user.pk, key, digest, timezone.now(), status,
                                                                 result._meta.label_lower, str(result.pk))
                if not recorded:
                    raise _Taken()
            return Outcome(status=status, result=result)
        except _Taken:
            earlier = _earlier(user, key, digest)
            if earlier is not None:
                return earlier
            if attempt + 1 < ATTEMPTS:
                continue  # the record went (purged) between the two statements: run again, recording it
            raise exceptions.IdempotencyKeyInUse() from None
        except OperationalError as exc:
            if attempt + 1 < ATTEMPTS and sql.sqlstate(exc) in RETRYABLE:
                continue
            raise
        except exceptions.DomainError as exc:
            if key and not isinstance(exc, exceptions.IdempotencyKeyReused):
                earlier = _earlier(user, key, digest)  # an applied request's retry (or another's key: 422)
                if earlier is not None:
                    return earlier
            if command.kind and exc.status_code == 422 and not isinstance(exc, exceptions.IdempotencyKeyReused):
                # Owed like any reaction (contract v1.3): a job, committed on its own since the
                # movement rolled back; the worker sends money_refused (api.reactions).
                with db_transaction.atomic():
                    owe_refusal(user_id=user.pk, kind=command.kind, code=exc.code, account=command.reported_account)
            raise
    raise AssertionError("unreachable")


def remember(*, user: User, key: str | None, body: str) -> None:
    """Keep the first answer's body (rendered after the commit) for the replays of this key."""
    if key:
        queries.store_body(user.pk, key, body, timezone.now())
