"""Real-time notifications over a real WebSocket (contract v1.2), against real servers.

uvicorn serves ``/ws/notifications/`` (nexus.asgi) and gunicorn the REST API, two processes on this
test's database, as in production; a ``websockets`` client listens. The money is moved by the
gunicorn process, so a push crosses processes through the channel layer (PostgreSQL, the embedded
default). A blocked user's token is refused on the next request by every gunicorn worker.
"""

import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.services.sessions import issue_tokens
from api.services.transfers import transfer_external
from tests.factories import AccountFactory, StaffFactory, UserFactory
from tests.hardening.server import AsgiServer, Server, end_server_sessions, request

pytestmark = pytest.mark.django_db(transaction=True)
PUSH_WITHIN = 1.0  # seconds after the commit (contract)


@pytest.fixture
def servers(tmp_path):
    asgi, wsgi = AsgiServer(tmp_path / "uvicorn.log"), Server(tmp_path / "gunicorn.log")
    try:
        asgi.start()
        wsgi.start()
        yield asgi, wsgi
    finally:
        asgi.stop()
        wsgi.stop()
        end_server_sessions()


def access(user) -> str:
    return issue_tokens(user)["access"]


class Listener:
    """A WebSocket client on its own thread: every message with the moment it arrived, then the close code."""

    def __init__(self, port: int, token: str | None = None, *, subprotocol: bool = False,
                 path: str = "/ws/notifications/"):
        self.uri = f"ws://127.0.0.1:{port}{path}"
        if token is not None and not subprotocol:
            self.uri += f"?token={token}"
        self.subprotocols = ["bearer", token] if subprotocol else None
        self.messages: queue.Queue = queue.Queue()
        self.close_code = None
        self.ws = None
        opened = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(opened,), daemon=True)
        self.thread.start()
        assert opened.wait(10), "the WebSocket handshake did not complete"

    def _run(self, opened: threading.Event):
        with connect(self.uri, subprotocols=self.subprotocols, open_timeout=10) as ws:
            self.ws = ws
            opened.set()
            try:
                while True:
                    self.messages.put((time.monotonic(), json.loads(ws.recv())))
            except ConnectionClosed as exc:
                self.close_code = exc.rcvd.code if exc.rcvd else None

    def next(self, timeout: float = 5.0):
        return self.messages.get(timeout=timeout)

    def nothing_for(self, seconds: float) -> bool:
        try:
            self.messages.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def closed_with(self, timeout: float = 5.0):
        self.thread.join(timeout)
        return self.close_code

    def close(self):
        self.ws.close()
        self.thread.join(5)


def _transfer(port, user, sender, receiver, amount="10.000"):
    started = time.monotonic()
    status, body, _ = request(port, "POST", "/transfers/external/",
                              {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount},
                              {"Authorization": f"Bearer {access(user)}"})
    assert status == 201, body
    return started, json.loads(body)


def test_a_push_arrives_within_a_second_of_a_commit_made_by_another_process(servers):
    asgi, wsgi = servers
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    sender = AccountFactory(owner=alice, funded=Decimal("100"))
    receiver = AccountFactory(owner=bob)
    bob_socket, carol_socket = Listener(asgi.port, access(bob)), Listener(asgi.port, access(carol))
    alice_socket = Listener(asgi.port, access(alice), subprotocol=True)
    try:
        started, txn = _transfer(wsgi.port, alice, sender, receiver)
        arrived, pushed = bob_socket.next()
        assert arrived - started < PUSH_WITHIN, arrived - started
        assert pushed["kind"] == "transfer_in" and pushed["data"] == {"transaction_id": txn["id"],
                                                                       "account": receiver.pk}
        _, sent = alice_socket.next()
        assert sent["kind"] == "transfer_out" and sent["data"]["transaction_id"] == txn["id"]
        # The same object the list shows.
        status, listed, _ = request(wsgi.port, "GET", "/notifications/", headers={"Authorization": f"Bearer {access(bob)}"})
        assert json.loads(listed)["results"][0] == pushed
        # One user never receives another's messages.
        assert carol_socket.nothing_for(1.0)
        assert bob_socket.nothing_for(0.2) and alice_socket.nothing_for(0.2)
    finally:
        for socket in (bob_socket, carol_socket, alice_socket):
            socket.close()


def test_sockets_opened_together_on_a_fresh_server_each_get_a_push_once(servers):
    """Sockets that connect at the same moment, before the server listens to the channel layer, must not
    each start a listener of their own: every listener would deliver every message again."""
    asgi, wsgi = servers
    alice, bob = UserFactory(), UserFactory()
    sender, receiver = AccountFactory(owner=alice, funded=Decimal("100")), AccountFactory(owner=bob)
    token = access(bob)
    with ThreadPoolExecutor(5) as pool:
        sockets = list(pool.map(lambda subprotocol: Listener(asgi.port, token, subprotocol=subprotocol),
                                [False, True, False, True, False]))
    try:
        _, txn = _transfer(wsgi.port, alice, sender, receiver)
        for socket in sockets:
            _, pushed = socket.next()
            assert pushed["data"]["transaction_id"] == txn["id"]
        assert all(socket.nothing_for(0.5) for socket in sockets), "a push arrived twice"
    finally:
        for socket in sockets:
            socket.close()


def test_a_rolled_back_transfer_pushes_nothing(servers):
    asgi, wsgi = servers
    alice, bob = UserFactory(), UserFactory()
    sender = AccountFactory(owner=alice, funded=Decimal("100"))
    receiver = AccountFactory(owner=bob)
    bob_socket = Listener(asgi.port, access(bob))
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            transfer_external(user=alice, sender_number=sender.pk, receiver_number=receiver.pk, amount=Decimal("5"))
            raise RuntimeError("rolled back after the posting")
        assert bob_socket.nothing_for(1.5)
        _transfer(wsgi.port, alice, sender, receiver)  # the socket works: a committed one arrives
        assert bob_socket.next()[1]["kind"] == "transfer_in"
    finally:
        bob_socket.close()


@pytest.mark.parametrize("subprotocol", [False, True])
def test_a_bad_or_expired_token_closes_with_4401(servers, subprotocol):
    asgi, _ = servers
    user = UserFactory()
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    for token in ("not-a-token", str(expired), access(user)[:-2] + "xx"):
        assert Listener(asgi.port, token, subprotocol=subprotocol).closed_with() == 4401, token[:20]
    assert Listener(asgi.port, None).closed_with() == 4401


def test_blocking_closes_open_sockets_and_every_worker_refuses_the_token_at_once(servers):
    asgi, wsgi = servers
    user, supervisor = UserFactory(), StaffFactory(roles=["Supervisor"])
    token = access(user)
    socket = Listener(asgi.port, token)
    headers = {"Authorization": f"Bearer {token}"}

    def me(_):
        return request(wsgi.port, "GET", "/auth/me/", headers=headers)[0]

    # Concurrent requests reach both gunicorn workers (and their threads).
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(me, range(32))) == {200}
        status, body, _ = request(wsgi.port, "POST", f"/users/{user.pk}/block/", {"reason": "stolen phone"},
                                  {"Authorization": f"Bearer {access(supervisor)}"})
        assert status == 200, body
        assert set(pool.map(me, range(32))) == {401}
    assert socket.closed_with() == 4401
    # The token cannot open a new socket either.
    assert Listener(asgi.port, token).closed_with() == 4401


UNKNOWN_PATHS = ["/ws/", "/ws/notifications/x/", "/ws/notifications/x", "/nope/", "/ws/%0A/", "/"]


def test_a_socket_on_an_unknown_path_is_closed_with_4404_never_an_http_500(servers):
    """Security audit (contract v1.3): Channels' router raised ``No route found`` and uvicorn failed the
    handshake with an HTTP 500. The known path still works, with or without its trailing slash."""
    asgi, _ = servers
    for path in UNKNOWN_PATHS:
        assert Listener(asgi.port, path=path).closed_with() == 4404, path
    token = access(UserFactory())
    for path in ("/ws/notifications/", "/ws/notifications"):
        socket = Listener(asgi.port, token, path=path)
        assert socket.nothing_for(0.3) and socket.close_code is None, path
        socket.close()
    assert "No route found" not in asgi.log.read_text()


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_the_asgi_application_closes_an_unknown_path_with_4404(path):
    """The same through the ASGI interface (channels.testing needs daphne, which is not installed)."""
    from nexus.asgi import application

    async def answers():
        scope = {"type": "websocket", "path": unquote(path), "query_string": b"", "headers": [], "subprotocols": []}
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "websocket.connect"})
        sent = [await communicator.receive_output(), await communicator.receive_output()]
        await communicator.wait()
        return sent

    assert async_to_sync(answers)() == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 4404}]


def test_a_blacklisted_address_cannot_open_a_socket(servers):
    """Security audit (v1.3): the blacklist covered HTTP only; a blacklisted client kept its live stream."""
    from risk.models import BlockedIP, Incident

    asgi, _ = servers
    BlockedIP.objects.create(cidr="198.51.100.9/32", reason="test")  # applies at once (nexus.refcache)
    token = access(UserFactory())
    uri = f"ws://127.0.0.1:{asgi.port}/ws/notifications/?token={token}"
    with connect(uri, additional_headers={"X-Forwarded-For": "198.51.100.9"}, open_timeout=10) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4403
    assert Incident.objects.filter(code="blacklisted_ip", ip="198.51.100.9").exists()
    with connect(uri, additional_headers={"X-Forwarded-For": "198.51.100.10"}, open_timeout=10) as ws:
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)  # another client's socket stays open


def test_a_revocation_landing_while_a_socket_joins_still_closes_it(monkeypatch):
    """Security audit (v1.3): a socket checked its token, then joined its group; a revocation committed in
    between reached nobody, and the socket outlived it. The socket now checks again once it has joined."""
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer

    from api.services.sessions import end_sessions
    from nexus.asgi import application

    user = UserFactory()
    token = access(user)
    layer_class = type(get_channel_layer())
    original = layer_class.group_add

    async def revoked_meanwhile(self, group, channel):
        await database_sync_to_async(end_sessions)(user)
        return await original(self, group, channel)

    monkeypatch.setattr(layer_class, "group_add", revoked_meanwhile)

    async def answers():
        scope = {"type": "websocket", "path": "/ws/notifications/", "query_string": f"token={token}".encode(),
                 "headers": [], "subprotocols": [], "client": ("127.0.0.1", 5000)}
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "websocket.connect"})
        sent = [await communicator.receive_output(5), await communicator.receive_output(5)]
        await communicator.send_input({"type": "websocket.disconnect", "code": 4401})
        await communicator.wait(5)
        return sent

    assert async_to_sync(answers)() == [{"type": "websocket.accept", "subprotocol": None},
                                        {"type": "websocket.close", "code": 4401}]
