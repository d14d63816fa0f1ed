"""Real PostgreSQL errors, as the driver raises them, reach the code that must recognise them."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction

from api.models import Account
from api.services import money_request
from api.services.commands import Command
from nexus.exceptions import exception_handler
from nexus.sql import sqlstate

pytestmark = pytest.mark.django_db(transaction=True)


def raise_sqlstate(code: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{code}'; END $$")


class Failing(Command):
    """Raises ``codes`` in turn (one per attempt), then answers the user it ran for."""

    kind = "external"

    def __init__(self, *codes):
        self.codes, self.attempts = list(codes), 0

    def execute(self, *, user, key, stepped_up):
        self.attempts += 1
        if self.codes:
            raise_sqlstate(self.codes.pop(0))
        return user


@pytest.mark.parametrize("code", ["40P01", "40001"])  # deadlock_detected, serialization_failure
def test_a_deadlock_or_serialization_failure_is_retried_whole(user, code):
    command = Failing(code)
    outcome = money_request.run(user=user, key=None, scope="t", payload={}, command=command)
    assert (outcome.status, outcome.result, command.attempts) == (201, user, 2)


def test_other_database_errors_are_not_retried(user):
    command = Failing("22012")  # division_by_zero: a bug, not contention
    with pytest.raises(Exception) as info:
        money_request.run(user=user, key=None, scope="t", payload={}, command=command)
    assert sqlstate(info.value) == "22012" and command.attempts == 1


def test_a_lock_timeout_answers_503_busy(account_factory):
    account = account_factory(funded=Decimal("1.000"))
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(pk=account.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(OperationalError) as info, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '50ms'")
            Account.objects.select_for_update().get(pk=account.pk)
    finally:
        release.set()
        holder.join(10)
    assert sqlstate(info.value) == "55P03"
    response = exception_handler(info.value, {})
    assert response.status_code == 503
    assert response.data["error"]["code"] == "busy" and response["Retry-After"] == "1"
