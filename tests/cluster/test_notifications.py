"""Notifications across nodes (contract v1.2): the WebSocket on one node hears money moved on another.

Every app node runs uvicorn for ``/ws/`` beside its gunicorn; a push crosses nodes through the
channel layer on Redis. A socket opened on node A receives, within a second, the notification for a
transfer made through node B's REST API, the same JSON object ``GET /notifications/`` lists.

A socket's node can die. A careful client (``Inbox``) opens its socket, then reads the list, and
keeps one copy per id: what was committed before the socket joined is in the list, what was
committed after is pushed, and the overlap is the same object twice, kept once. So when its node is
SIGKILLed, the client reconnects through HAProxy (to the surviving node), reads the list again, and
ends with every notification exactly once, while transfers go on before, during and after the kill.
"""

import http.client
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from cluster.topology import alive, wait_for

from .client import Load, login, request
from .conftest import BOB

PUSH_WITHIN = 1.0  # seconds after the commit (contract v1.2)


def notifications_since(port: int, headers: dict, since: datetime) -> list[dict]:
    """The caller's notifications created at or after ``since``, newest first, from the list (the source of truth)."""
    found, path = [], "/notifications/?page_size=200"
    while path:
        status, body, _ = request(port, "GET", path, headers=headers, timeout=10)
        if status != 200:
            raise RuntimeError(f"GET /notifications/ answered {status}: {body[:200]}")
        page = json.loads(body)
        fresh = [item for item in page["results"] if datetime.fromisoformat(item["created_at"]) >= since]
        found += fresh
        more = page["next"] and len(fresh) == len(page["results"])
        path = f"{urlsplit(page['next']).path}?{urlsplit(page['next']).query}" if more else None
    return found


class Inbox:
    """A client of the notification socket through HAProxy that reconnects and reconciles with the list.

    ``view`` is what the client shows: one notification per id. ``pushed`` is every id the sockets
    delivered, in order (the server must never push one twice); ``listed_only`` the ids the client
    learnt from the list alone (those committed while it had no socket).
    """

    def __init__(self, port: int, headers: dict, since: datetime):
        self.port, self.headers, self.since = port, headers, since
        self.view: dict[str, dict] = {}
        self.pushed: list[str] = []
        self.listed_only: set[str] = set()
        self.mismatches: list = []
        self.synced = 0  # connections that opened their socket and then read the list
        self.errors: list[str] = []
        self.may_connect = threading.Event()  # cleared by the test: the client backs off meanwhile
        self.may_connect.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Inbox":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.may_connect.set()
        self._thread.join(10)

    def _apply(self, item: dict, *, pushed: bool) -> None:
        with self._lock:
            if pushed:
                self.pushed.append(item["id"])
                self.listed_only.discard(item["id"])
            known = self.view.get(item["id"])
            if known is None:
                self.view[item["id"]] = item
                if not pushed:
                    self.listed_only.add(item["id"])
            elif known != item:
                self.mismatches.append((known, item))

    def _run(self) -> None:
        token = self.headers["Authorization"].removeprefix("Bearer ")
        uri = f"ws://127.0.0.1:{self.port}/ws/notifications/?token={token}"
        while not self._stop.is_set():
            self.may_connect.wait()
            try:
                with connect(uri, open_timeout=5, close_timeout=1) as ws:
                    # Socket first, then the list: nothing committed in between can fall through.
                    for item in notifications_since(self.port, self.headers, self.since):
                        self._apply(item, pushed=False)
                    with self._lock:
                        self.synced += 1
                    while not self._stop.is_set():
                        try:
                            message = ws.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self._apply(json.loads(message), pushed=True)
            except (OSError, WebSocketException, RuntimeError, http.client.HTTPException) as exc:
                self.errors.append(repr(exc))
                time.sleep(0.1)


def ws_node(cluster) -> str | None:
    """The app node whose uvicorn holds the one socket open through HAProxy (its current sessions)."""
    holding = [name.removeprefix("ws_nodes/") for name, row in cluster.haproxy_stats().items()
               if name.startswith("ws_nodes/") and int(row["scur"] or 0) > 0]
    return holding[0] if len(holding) == 1 else None


def test_a_socket_on_node_a_hears_a_transfer_made_through_node_b(cluster, customers):
    node_a, node_b = cluster.app_nodes
    alice, a = customers["alice"]
    _, b = customers["bob"]
    bob, since = login(node_b["port"], *BOB), datetime.now(UTC)
    token = bob["Authorization"].removeprefix("Bearer ")
    pushes, answers = [], []
    with connect(f"ws://127.0.0.1:{node_a['ws_port']}/ws/notifications/?token={token}", open_timeout=10) as ws:
        for n in range(10):
            key = f"notify-across-{uuid.uuid4()}-{n}"
            sent = time.monotonic()
            status, body, _ = request(node_b["port"], "POST", "/transfers/external/",
                                      {"sender_account": a["JOD"], "receiver_account": b["JOD"], "amount": "1.000"},
                                      {**alice, "Idempotency-Key": key})
            answered = time.monotonic()
            assert status == 201, body[:300]
            transfer = json.loads(body)
            pushed = json.loads(ws.recv(timeout=max(0.0, sent + PUSH_WITHIN - time.monotonic())))
            pushes.append(time.monotonic() - sent)
            answers.append(answered - sent)
            assert pushed["kind"] == "transfer_in" and pushed["data"]["transaction_id"] == transfer["id"], pushed
            listed = next(item for item in notifications_since(node_a["port"], bob, since) if item["id"] == pushed["id"])
            assert pushed == listed
    print(f"push across nodes, POST sent on {node_b['name']} -> socket on {node_a['name']}: "  # noqa: T201
          f"median {statistics.median(pushes) * 1000:.0f} ms, max {max(pushes) * 1000:.0f} ms "
          f"(the 201 itself: median {statistics.median(answers) * 1000:.0f} ms)")


def test_a_client_whose_node_dies_reconnects_and_misses_nothing(cluster, customers):
    port = cluster.ports["http"]
    alice, a = customers["alice"]
    _, b = customers["bob"]
    inbox = Inbox(port, login(port, *BOB), since=datetime.now(UTC)).start()
    load = victim = None
    try:
        wait_for(lambda: inbox.synced == 1, 20, "the client to connect through HAProxy")
        wait_for(lambda: ws_node(cluster) is not None, 10, "HAProxy to show the socket on one node")
        victim = ws_node(cluster)
        survivor = next(n["name"] for n in cluster.app_nodes if n["name"] != victim)
        load = Load(port, payers=[(alice, a["USD"], b["USD"], "1.00")], threads=1).start(f"notify-{uuid.uuid4()}")
        wait_for(lambda: len(inbox.pushed) >= 5, 30, "pushes before the kill")
        inbox.may_connect.clear()  # the client backs off: transfers land while it has no socket
        cluster.kill(cluster.app_node(victim)["ws"])
        acknowledged = len(load.acknowledged)
        wait_for(lambda: len(load.acknowledged) >= acknowledged + 3, 30, "transfers while the client is away")
        released = time.monotonic()
        inbox.may_connect.set()
        wait_for(lambda: inbox.synced == 2, 20, "the client to reconnect through HAProxy", 0.02)
        reconnected = time.monotonic() - released
        wait_for(lambda: ws_node(cluster) == survivor, 10, "the new socket to be on the surviving node")
        pushed = len(inbox.pushed)
        wait_for(lambda: len(inbox.pushed) >= pushed + 5, 30, "pushes after the reconnect")
        load.stop()
        _check(inbox, load, port, reconnected)
    finally:
        if load is not None:
            load.stop()
        inbox.stop()
        # The node's socket server comes back whatever happened: the next tests need a whole cluster.
        if victim is not None and not alive(cluster.pid(cluster.app_node(victim)["ws"])):
            cluster.start_ws(victim)
            cluster.wait_ws(victim)
            wait_for(lambda: cluster.haproxy_servers().get(f"ws_nodes/{victim}") == "UP", 30,
                     "the socket server back in rotation")


def _check(inbox: Inbox, load: Load, port: int, reconnected: float) -> None:
    paid = {body["id"] for body in load.acknowledged.values()}

    def announced_ids() -> set:
        return {item["data"]["transaction_id"] for item in notifications_since(port, inbox.headers, inbox.since)
                if item["kind"] == "transfer_in"}

    # v1.3: the notifications are the job workers' (after the 201, normally within milliseconds).
    wait_for(lambda: announced_ids() >= paid, 20, "the workers to write every transfer's notification", 0.2)
    truth = {item["id"]: item for item in notifications_since(port, inbox.headers, inbox.since)}
    # The transfers' last pushes are on their way: the client catches up without reading the list again.
    wait_for(lambda: set(inbox.view) >= set(truth), 5, "the last pushes to arrive")
    assert inbox.view == truth, "the client's notifications differ from the list"
    assert not inbox.mismatches, inbox.mismatches[:2]
    twice = [item for item, n in Counter(inbox.pushed).items() if n > 1]
    assert not twice, f"pushed more than once: {twice[:5]}"
    assert len(paid) == len(load.payments), "a transfer was not acknowledged"
    announced = Counter(item["data"]["transaction_id"] for item in truth.values() if item["kind"] == "transfer_in")
    assert set(announced) == paid and set(announced.values()) == {1}, "not one notification per transfer"
    assert inbox.listed_only, "no transfer landed while the client was away"
    print(f"{len(truth)} notifications, each once: {len(inbox.pushed)} pushed, {len(inbox.listed_only)} "  # noqa: T201
          f"only from the list (made while the client was away); reconnected through HAProxy in "
          f"{reconnected:.2f} s")
