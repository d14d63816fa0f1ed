"""Which database errors mean "no database right now" (503 service_unavailable), and which do not.

The real thing (PostgreSQL SIGKILLed under load) is in tests/cluster/; these pin the classification
on errors as the driver raises them.
"""

import psycopg
import pytest
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.test import RequestFactory

from nexus.errors import server_error
from nexus.exceptions import database_unavailable, exception_handler


def driver_error(exc_class, message="x"):
    """A Django error wrapping a psycopg one, the way Django's DatabaseErrorWrapper raises it."""
    cause = exc_class(message)
    django_class = {psycopg.OperationalError: OperationalError, psycopg.InterfaceError: InterfaceError}.get(
        exc_class, OperationalError if issubclass(exc_class, psycopg.OperationalError) else DatabaseError)
    error = django_class(message)
    error.__cause__ = cause
    return error


def test_a_refused_connection_is_unavailable():
    with pytest.raises(OperationalError) as info:
        psycopg_connect_refused()
    assert database_unavailable(info.value)
    response = exception_handler(info.value, {})
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert response.data["error"]["code"] == "service_unavailable"


def psycopg_connect_refused():
    from django.db.utils import DatabaseErrorWrapper

    class Wrapper:
        Database = psycopg

    with DatabaseErrorWrapper(Wrapper()):
        psycopg.connect("host=127.0.0.1 port=1 connect_timeout=2 dbname=x user=x")


@pytest.mark.parametrize("error", [psycopg.errors.AdminShutdown, psycopg.errors.CrashShutdown,
                                   psycopg.errors.CannotConnectNow, psycopg.errors.TooManyConnections])
def test_server_shutdowns_are_unavailable(error):
    assert database_unavailable(driver_error(error))


def test_a_commit_cut_by_the_server_dying_behind_pgbouncer_is_unavailable():
    # Seen in tests/cluster/test_primary_dies.py: PgBouncer answers a COMMIT whose server just died
    # with a second result, and psycopg reports its own protocol confusion (no SQLSTATE). The commit's
    # outcome is unknown: 503, and the client's retry with its Idempotency-Key settles it.
    from django.db import InternalError

    cause = psycopg.InternalError("received 2 results from command 'COMMIT'")
    error = InternalError(str(cause))
    error.__cause__ = cause
    assert database_unavailable(error)
    assert exception_handler(error, {}).status_code == 503


def test_a_closed_connection_is_unavailable():
    assert database_unavailable(driver_error(psycopg.InterfaceError, "the connection is closed"))


@pytest.mark.parametrize("error", [psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable,
                                   psycopg.errors.QueryCanceled, psycopg.errors.DivisionByZero])
def test_request_level_errors_are_not_an_outage(error):
    assert not database_unavailable(driver_error(error))


@pytest.mark.django_db(transaction=True)
def test_a_former_primary_now_read_only_is_unavailable():
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")  # what a write meets on a standby or a demoted primary
        cursor.execute("UPDATE api_account SET balance = balance WHERE false")
    assert database_unavailable(info.value)


def test_outside_drf_an_outage_is_503_not_500():
    request = RequestFactory().get("/admin/")
    try:
        raise driver_error(psycopg.OperationalError, "connection refused")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        assert server_error(request).status_code == 500


@pytest.mark.django_db
def test_an_unreachable_throttle_store_is_a_503_not_a_500(client, settings):
    """With REDIS_URL set, the throttle counters live in Redis: losing it is an outage, answered like one."""
    from nexus import throttles

    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    throttles._redis = None
    try:
        response = client.get("/fx/rates/")
    finally:
        throttles._redis = None
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"]["code"] == "service_unavailable"
