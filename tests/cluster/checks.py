"""What must hold after any failure: nothing acknowledged lost, nothing paid twice, the ledger balanced."""

import json

from .client import Load, request
from .conftest import sql


def assert_money_safe(cluster, load: Load, *, query=None) -> dict:
    """``query(sql, params) -> rows`` on the primary: by default as the cluster's superuser; tests/compose
    pass their own (the stack's database is reached from inside it)."""
    query = query or (lambda text, params: sql(cluster, text, params))
    acknowledged = load.acknowledged
    assert acknowledged, "no transfer was acknowledged"
    # Every 201 a client saw is on the (current) primary, as it was acknowledged.
    ids = [body["id"] for body in acknowledged.values()]
    found = dict(query("SELECT id::text, amount::text FROM api_transaction WHERE id::text = ANY(%s)", [ids]))
    missing = [i for i in ids if i not in found]
    assert not missing, f"{len(missing)} acknowledged transfers lost: {missing[:5]}"
    # Payments whose answer was lost are retried with the same key now: each applies exactly once.
    port = cluster.ports["http"]
    for payment in load.payments:
        status, content, headers = request(port, "POST", payment.path, payment.body, payment.headers)
        assert status == 201, (payment.key, status, content[:300])
        first = acknowledged.get(payment.key)
        if first is not None:
            assert json.loads(content) == first and headers.get("idempotent-replayed") == "true", payment.key
    keys = [p.key for p in load.payments]
    counts = dict(query("SELECT idempotency_key, count(*) FROM api_transaction WHERE idempotency_key = ANY(%s) "
                               "GROUP BY idempotency_key", [keys]))
    twice = {key: n for key, n in counts.items() if n != 1}
    assert not twice, f"paid more than once: {twice}"
    assert set(counts) == set(keys), "a retried payment was not applied"
    cluster.manage("verify_ledger")
    return {"payments": len(keys), "acknowledged_during_load": len(acknowledged), "answers": dict(load.statuses)}


def app_errors(cluster, limit: int = 3) -> str:
    """The app nodes' logged errors (a 500's traceback), for an assertion message."""
    found = []
    for log in sorted((cluster.dir / "log").glob("app*.log")):
        found += [line[:3000] for line in log.read_text(errors="replace").splitlines()
                  if _is_error(line) or "Traceback" in line]
    return "\n".join(found[-limit:])


def _is_error(line: str) -> bool:
    """An app log line (nexus.logging: one JSON object) at level ERROR."""
    try:
        return json.loads(line).get("level") == "ERROR"
    except (ValueError, AttributeError):
        return False


def writes_again(load: Load, killed_at: float) -> float | None:
    """Seconds from the kill to the first 201 answered to a request sent after it (None: not yet).

    Only a request sent after the kill proves a commit made after it. A 201 that arrives after the
    kill may be a commit made before it, its answer held back by after-commit work (notifications)
    meeting the outage; and a crash that PgBouncer hides (no transaction in flight, the next ones
    wait for the restarted server) fails no answer at all.
    """
    # Appended together, in the same order; one list may be an answer ahead while a thread records.
    answers = zip(list(load.sent), list(load.timeline), strict=False)
    written = [arrived for (sent, status), (arrived, _) in answers if sent > killed_at and status == 201]
    return min(written) - killed_at if written else None
