"""One compose stack for the compose tests: docker-compose.yml with docker-compose.local-images.yml, on a
private dockerd started here and stopped by its pid at the end.

Built by the same code a developer can read in containers/: the base image loaded from its cache under
/var/cache/nexus-compose (or built by debootstrap from this machine's Debian mirror, a few minutes, the
first time), the repository's Dockerfiles built on it, ``docker-compose up -d`` (migrations once, by the
one-shot ``migrate`` service), then the demo data for the README's session. Skipped, saying why, only
when Docker cannot run here (not installed and not installable, not root, the daemon does not start,
no Debian mirror or package index reachable for the base image). A stack that starts and then
misbehaves fails.
"""

import json
import os
import time

import pytest

from tests.cluster.client import login, request

APP_ENV = {
    "GUNICORN_WORKERS": "2",  # two replicas on a 2-core machine
    # The load generator is one client IP with two users: throttles would measure themselves.
    "THROTTLE_USER": "1000000/min",
    "THROTTLE_ANON": "1000000/min",
    "THROTTLE_LOGIN": "1000/min",
    "LOG_LEVEL": "WARNING",
}
ALICE, BOB = ("alice@nexus.local", "Alice-Demo-Pass-2026"), ("bob@nexus.local", "Bob-Demo-Pass-2026")
SKIP_VARIABLE = "NEXUS_COMPOSE_UNAVAILABLE"  # set by scripts/test.py when Debian's packages could not be installed


def _say(message: str) -> None:
    print(f"[compose] {message}", flush=True)  # noqa: T201


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if os.environ.get(SKIP_VARIABLE):
        pytest.skip(f"compose tests skipped: {os.environ[SKIP_VARIABLE]}")
    from containers import base
    from containers.daemon import Daemon, Unavailable
    from containers.stack import Stack

    started = time.monotonic()
    try:
        daemon = Daemon.start()
    except Unavailable as exc:
        pytest.skip(f"compose tests skipped: {exc}")
    built = None
    try:
        _say(f"dockerd pid {daemon.pid}, data root {daemon.data_root}")
        try:
            base.ensure(daemon, log=_say)
        except Unavailable as exc:
            pytest.skip(f"compose tests skipped: {exc}")
        built = Stack(daemon, tmp_path_factory.mktemp("compose"), app_env=APP_ENV)
        phase = time.monotonic()
        built.build()
        _say(f"images built in {time.monotonic() - phase:.1f} s")
        phase = time.monotonic()
        built.up()
        _say(f"docker-compose up -d in {time.monotonic() - phase:.1f} s")
        waited = built.wait_ready()
        built.manage("seed_demo", "--force")  # the demo teller the README's session uses, Alice and Bob
        _say(f"every replica UP after {waited:.1f} s more; ready {time.monotonic() - started:.1f} s after the start")
        yield built
    finally:
        try:
            if built is not None and not built.is_down:
                built.compose("down", "-v", "--remove-orphans", "--timeout", "5", timeout=300, check=False)
        finally:
            daemon.stop()
            _say(f"done {time.monotonic() - started:.1f} s after the start")


@pytest.fixture(scope="session")
def customers(stack):
    """Alice and Bob's tokens (through HAProxy) and account numbers."""
    people = {}
    for name, (email, password) in {"alice": ALICE, "bob": BOB}.items():
        headers = login(stack.port, email, password)
        status, body, _ = request(stack.port, "GET", "/accounts/", headers=headers)
        assert status == 200, body
        people[name] = (headers, {a["currency"]: a["account_number"] for a in json.loads(body)["results"]})
    return people
