"""One real cluster for the cluster tests: built once in a temporary directory, torn down at the end.

Built by the same code as ``scripts/cluster.py up``: two app nodes (gunicorn, and uvicorn for /ws/)
behind HAProxy, Patroni with etcd over a PostgreSQL primary and its synchronous standby, PgBouncer,
Redis. Skipped, saying why, only where the packages cannot be installed (not root and not installed, no apt).
"""

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from .client import login

# Registration is throttled low on this cluster, so the shared-state test can exhaust it across nodes.
APP_ENV = {"THROTTLE_REGISTER": "3/hour", "THROTTLE_LOGIN": "1000/min"}
ALICE, BOB = ("alice@nexus.local", "Alice-Demo-Pass-2026"), ("bob@nexus.local", "Bob-Demo-Pass-2026")
STAFF = ("staff@nexus.local", "Staff-Demo-Pass-2026")


@pytest.fixture(scope="session")
def cluster():
    warnings.filterwarnings("ignore", module="platformdirs")
    from cluster import system
    from cluster.topology import Cluster

    try:
        system.ensure_all(log=lambda message: print(message))  # noqa: T201
    except system.Missing as exc:
        pytest.skip(f"cluster tests skipped: {exc}")
    directory = Path(tempfile.mkdtemp(prefix="nexus-cluster-test-"))
    built = Cluster.create(directory, app_nodes=2, pgbouncer=True, workers=2, app_env=APP_ENV)
    try:
        built.up(log=lambda message: print(message))  # noqa: T201
        built.manage("seed_demo", "--force")
        yield built
    finally:
        built.down()
        if os.environ.get("NEXUS_KEEP_CLUSTER"):
            print(f"cluster kept in {directory}")  # noqa: T201
        else:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def customers(cluster):
    """Alice and Bob's tokens (through HAProxy) and account numbers."""
    import json

    from .client import request

    port = cluster.ports["http"]
    people = {}
    for name, (email, password) in {"alice": ALICE, "bob": BOB}.items():
        headers = login(port, email, password)
        status, body, _ = request(port, "GET", "/accounts/", headers=headers)
        assert status == 200, body
        people[name] = (headers, {a["currency"]: a["account_number"] for a in json.loads(body)["results"]})
    return people


def sql(cluster, query: str, params=(), *, node: str | None = None):
    """Rows from the primary (through HAProxy) or from one node, as the superuser."""
    import psycopg

    with psycopg.connect(cluster.superuser_dsn(node, dbname="nexus"), autocommit=True) as conn:
        return conn.execute(query, params).fetchall()
