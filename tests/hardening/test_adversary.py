"""Issue 11 played by an attacker and an auditor, over HTTP, against the real server.

The tests share one gunicorn (2 workers, threads) on the test database, with the throttle rates a
deployment has (attacker_settings), and talk to it as an outside client would: JSON for the API,
the Django admin's login form with its CSRF cookie and token. Every client claims its own address
in ``X-Forwarded-For`` (loopback is a trusted proxy), so each attacker is a distinct IP. Tokens are
minted and rows are created before the load; the database is read back afterwards for the evidence
(login events, incidents, balances). No answer may be a 5xx, and the server must log no traceback.
"""

import http.client
import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from api import roles
from api.identifiers import new_account_number
from api.ledger_checks import find_discrepancies
from api.models import Account, Transaction, User
from api.services.sessions import issue_tokens
from risk.models import Incident, LoginEvent
from tests.factories import PASSWORD, AccountFactory, StaffFactory, UserFactory

from .server import Server, end_server_sessions

WRONG = "not-the-password-000"
JSON = "application/json"
# Which worker answered each request: the access log names the worker's pid.
ACCESS_LOG = ("--access-logfile", "-", "--access-logformat", "access %(p)s %(m)s %(U)s %(s)s")


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        return self.json["error"]["code"] if self.status >= 400 else None


class Client:
    """One client address, behind the trusted proxy (loopback) that forwards it."""

    def __init__(self, port: int, ip: str, token: str | None = None):
        self.port, self.ip, self.token = port, ip, token

    def call(self, method: str, path: str, body=None, *, token: str | None = None, form: dict | None = None,
             headers: dict | None = None) -> Answer:
        sent = {"X-Forwarded-For": self.ip, **(headers or {})}
        token = token or self.token
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = None
        if form is not None:
            payload, sent["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
        elif body is not None:
            payload, sent["Content-Type"] = json.dumps(body), JSON
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            answer = Answer(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
        finally:
            conn.close()
        assert answer.status < 500, (method, path, answer.status, answer.body[:500])
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> Answer:
        return self.post("/auth/jwt/create/", {"email": email, "password": password})

    def admin_login(self, email: str, password: str) -> Answer:
        """The admin's login form as a browser posts it: the CSRF cookie and the form's token first."""
        page = self.get("/admin/login/?next=/admin/")
        assert page.status == 200
        cookie = SimpleCookie(page.headers["set-cookie"])["csrftoken"].value
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
        return self.call("POST", "/admin/login/?next=/admin/", headers={"Cookie": f"csrftoken={cookie}"},
                         form={"username": email, "password": password, "next": "/admin/",
                               "csrfmiddlewaretoken": token})


def access(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


def logged_into_admin(answer: Answer) -> bool:
    return answer.status == 302 and "sessionid=" in answer.headers.get("set-cookie", "")


# Transactional: the server must see what a test creates. Each test starts from
# the migrated database, house accounts included under the same numbers (tests/conftest.py), so the server's workers
# (which remember those numbers) can serve every test of the module.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup, django_db_blocker):
    """One gunicorn for the module's tests, each with its own users and client address."""
    gunicorn = Server(tmp_path_factory.mktemp("adversary") / "gunicorn.log", "tests.hardening.attacker_settings",
                      args=ACCESS_LOG)
    try:
        gunicorn.start()
        yield gunicorn
    finally:
        gunicorn.stop()
        with django_db_blocker.unblock():
            end_server_sessions()
    log = gunicorn.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert not re.search(r"^access \S+ \S+ \S+ 5\d\d$", log, re.MULTILINE), "a 5xx was answered"


def fresh_window(seconds: int = 60, margin: float = 8) -> None:
    """Wait for a new fixed throttle window when this one is about to end, so a burst counts in one."""
    into = time.time() % seconds
    if into > seconds - margin:
        time.sleep(seconds - into + 0.2)


def test_admin_brute_force_is_locked_out_recorded_and_throttled(server):
    """Finding 1: the admin form posts ``username``; five wrong passwords now lock the (email, IP) pair,
    even against the right password, every attempt is a login event and brute_force fires."""
    staff = StaffFactory(roles=[roles.TELLER])
    attacker = Client(server.port, "198.51.100.10")
    answers = [attacker.admin_login(staff.email, WRONG) for _ in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 200, 429]
    right = attacker.admin_login(staff.email, PASSWORD)
    assert right.status == 429 and not logged_into_admin(right)
    assert b"Too many failed login attempts" in right.body and int(right.headers["retry-after"]) > 0

    attempts = LoginEvent.objects.filter(attempted_email=staff.email)
    assert attempts.count() == 6 and not attempts.filter(successful=True).exists()
    assert set(attempts.values_list("ip", flat=True)) == {attacker.ip}
    incident = Incident.objects.get(code="brute_force", subject=staff.email)
    assert incident.ip == attacker.ip
    # The lockout is per (email, IP): the attacker cannot lock the real owner out from elsewhere.
    assert logged_into_admin(Client(server.port, "198.51.100.11").admin_login(staff.email, PASSWORD))

    # Guessing across many emails from one address meets the admin's per-IP throttle (10/min) instead.
    sprayer = Client(server.port, "198.51.100.12")
    fresh_window()
    statuses = [sprayer.admin_login(f"probe{n}@example.com", WRONG).status for n in range(11)]
    assert statuses == [200] * 10 + [429]
    assert LoginEvent.objects.filter(ip=sprayer.ip).count() == 10  # the refused post never reached a password


def test_padding_with_successful_logins_cannot_blind_the_rules(server):
    """Finding 2: 30+ successful logins on owned accounts, then failures on 3 victims' emails."""
    owned = [UserFactory() for _ in range(8)]  # 4 logins each: under the 5/min per (IP, email) throttle
    victims = [UserFactory() for _ in range(3)]
    attacker = Client(server.port, "198.51.100.30")
    for n in range(32):
        assert attacker.login(owned[n % len(owned)].email).status == 200
    for victim in [*victims, *victims[:2]]:
        answer = attacker.login(victim.email, WRONG)
        assert (answer.status, answer.code) == (401, "invalid_credentials")

    kept = LoginEvent.objects.filter(ip=attacker.ip)
    assert kept.filter(successful=True).count() == 32
    failures = kept.filter(successful=False)
    assert failures.count() == 5
    assert set(failures.values_list("attempted_email", flat=True)) == {v.email for v in victims}
    incident = Incident.objects.get(code="credential_stuffing", subject=attacker.ip)
    assert incident.details["distinct_targets"] == 3 and incident.details["attempt_count"] >= 5
    # The victims themselves were not locked out by the attacker's two tries each.
    assert Client(server.port, "198.51.100.31").login(victims[0].email).status == 200


def test_staff_transfers_are_screened_like_anyones(server):
    """Finding 3: a staff user (whatever the roles) who is also a customer, 10 transfers in 15 minutes."""
    StaffFactory()  # funds the accounts below
    for staff in (StaffFactory(roles=[roles.TELLER]), StaffFactory(is_superuser=True)):
        own = [AccountFactory(owner=staff, funded=Decimal("100")) for _ in range(2)]
        client = Client(server.port, "198.51.100.40", access(staff))
        body = {"sender_account": own[0].pk, "receiver_account": own[1].pk, "amount": "1.000"}
        for _ in range(9):
            assert client.post("/transfers/internal/", body).status == 201
        assert not Incident.objects.filter(code="velocity", user=staff).exists()
        assert client.post("/transfers/internal/", body).status == 201
        incident = Incident.objects.get(code="velocity", user=staff)
        assert incident.details["count_15m"] == 10


def value_in_jod(client: Client, rates: dict[str, Fraction]) -> Fraction:
    """What a customer holds, at the contract's rates, exactly."""
    accounts = client.get("/accounts/").json
    rows = accounts["results"] if isinstance(accounts, dict) else accounts
    return sum((Fraction(a["balance"]) / rates[a["currency"]] for a in rows), Fraction(0))


def test_rounding_round_trips_never_create_money(server):
    """Finding 4 and 12: tiny conversions round down (a zero credit is 422 amount_too_small), fees round up."""
    StaffFactory()
    customer, other = UserFactory(), UserFactory()
    jod, usd, eur = (AccountFactory(owner=customer, type=kind, funded=Decimal("5")) for kind in ("Savings", "USD", "EUR"))
    other_jod = AccountFactory(owner=other)
    other_usd = AccountFactory(owner=other, type="USD")
    client = Client(server.port, "198.51.100.60", access(customer))
    published = client.get("/fx/rates/").json
    rates = {"JOD": Fraction(1), **{c: Fraction(r) for c, r in published["rates"].items()}}

    # (sender, receiver, amount, credited): None means nothing can be credited: refused, nothing moves.
    trips = [
        (jod, usd, "0.008", "0.01"), (usd, jod, "0.01", "0.007"),  # the audit's 0.004 -> 0.01 -> 0.007 loop
        (jod, usd, "0.004", None), (jod, eur, "0.008", "0.01"), (eur, jod, "0.01", "0.007"),
        (usd, eur, "0.01", None), (eur, usd, "0.01", None), (eur, usd, "0.02", "0.02"), (usd, eur, "0.02", "0.01"),
        (jod, usd, "0.001", None), (usd, jod, "0.02", "0.014"),
    ]
    start = before = value_in_jod(client, rates)
    for _ in range(5):
        for sender, receiver, amount, credited in trips:
            answer = client.post("/transfers/internal/",
                                 {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount})
            if credited is None:
                assert (answer.status, answer.code) == (422, "amount_too_small"), (sender.currency, amount)
            else:
                assert answer.status == 201 and answer.json["credited_amount"] == credited, answer.json
            after = value_in_jod(client, rates)
            assert after <= before, (sender.currency, receiver.currency, amount)
            assert after == before if credited is None else after < before
            before = after
    assert before < start

    quote = client.get("/fx/quote/?from=JOD&to=USD&amount=0.004")
    assert (quote.status, quote.code) == (422, "amount_too_small")
    assert client.get("/fx/quote/?from=JOD&to=USD&amount=0.008").json["converted_amount"] == "0.01"

    # Every external transfer pays at least one minor unit: splitting a payment saves nothing.
    for sender, receiver, amount, fee in [
        (jod, other_jod, "0.001", "0.001"), (jod, other_jod, "0.099", "0.001"), (jod, other_jod, "0.101", "0.002"),
        (usd, other_usd, "0.01", "0.01"), (usd, other_jod, "0.01", "0.01"), (eur, other_jod, "0.01", "0.01"),
        (usd, other_usd, "1.01", "0.02"),
    ]:
        balance = Account.objects.get(pk=sender.pk).balance
        answer = client.post("/transfers/external/",
                             {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": amount})
        assert answer.status == 201, answer.json
        assert answer.json["fee_amount"] == fee, (sender.currency, amount, answer.json)
        assert Decimal(answer.json["sender_balance_after"]) == balance - Decimal(amount) - Decimal(fee)
    zero = client.post("/transfers/external/",
                       {"sender_account": jod.pk, "receiver_account": other_usd.pk, "amount": "0.004"})
    assert (zero.status, zero.code) == (422, "amount_too_small")
    assert find_discrepancies() == []


def refresh(client: Client, token: str) -> Answer:
    return client.post("/auth/jwt/refresh/", {"refresh": token})


def test_a_refresh_token_is_good_for_one_exchange(server):
    """Findings 6 and 10: concurrent exchanges of one token (across 2 workers) give exactly one pair;
    reuse revokes the whole family, the chain issued to whoever used it first included."""
    user = UserFactory()
    client = Client(server.port, "198.51.100.50")
    first = client.login(user.email).json
    barrier = threading.Barrier(8)
    statuses, lock = [], threading.Lock()

    def exchange():
        barrier.wait()
        answer = refresh(client, first["refresh"])
        with lock:
            statuses.append((answer.status, answer.json))

    threads = [threading.Thread(target=exchange) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [body for status, body in statuses if status == 200]
    assert len(statuses) == 8 and len(winners) == 1, statuses
    assert {body["error"]["code"] for status, body in statuses if status != 200} == {"token_invalid"}
    # The losers presented a used token: the pair the winner got is revoked too.
    assert refresh(client, winners[0]["refresh"]).status == 401
    assert client.get("/auth/me/", token=winners[0]["access"]).status == 401

    # Stolen and replayed later: the legitimate chain dies with it.
    one = client.login(user.email).json
    two = refresh(client, one["refresh"]).json
    assert client.get("/auth/me/", token=two["access"]).status == 200
    replay = refresh(client, one["refresh"])
    assert (replay.status, replay.code) == (401, "token_invalid")
    assert refresh(client, two["refresh"]).status == 401
    assert client.get("/auth/me/", token=two["access"]).status == 401
    assert client.get("/auth/me/", token=one["access"]).status == 401
    again = client.login(user.email).json  # logging in again is the way back
    assert client.get("/auth/me/", token=again["access"]).status == 200

    # Finding 10: the token of a user deleted since is refused like any bad one. A user who has logged in is
    # never deleted (their login events are evidence, contract v1.3): this one gets a pair without a login.
    departed = UserFactory()
    pair = issue_tokens(departed)
    User.objects.filter(pk=departed.pk).delete()
    gone = refresh(client, pair["refresh"])
    assert (gone.status, gone.code) == (401, "token_invalid")


def log_size(server: Server) -> int:
    return len(server.log.read_text(errors="replace"))


def answering_workers(server: Server, client: Client, token: str, since: int, want: int) -> dict[str, set[int]]:
    """GET /auth/me/ in concurrent bursts until ``want`` distinct workers have answered; the statuses each gave.

    gunicorn writes a request's access line after the client has its answer, so each burst waits until
    the log holds a line for every request sent: a ``log_size`` taken afterwards starts after all of them.
    """
    pattern = re.compile(r"^access <(\d+)> GET /auth/me/ (\d{3})$", re.MULTILINE)
    sent = 0
    lines: list[tuple[str, str]] = []
    for _ in range(30):
        threads = [threading.Thread(target=client.get, args=("/auth/me/",), kwargs={"token": token})
                   for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        sent += len(threads)
        deadline = time.monotonic() + 10
        while True:
            lines = pattern.findall(server.log.read_text(errors="replace")[since:])
            if len(lines) >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if len({pid for pid, _ in lines}) >= want:
            break
    seen: dict[str, set[int]] = {}
    for pid, status in lines:
        seen.setdefault(pid, set()).add(int(status))
    return seen


def test_a_password_change_revokes_older_tokens_on_every_worker(server):
    """Finding 5: after POST /auth/password/, no worker still takes a token issued before the change,
    although each had just validated (and remembered) it."""
    user = UserFactory()
    client = Client(server.port, "198.51.100.70")
    pair = client.login(user.email).json
    before = answering_workers(server, client, pair["access"], log_size(server), want=2)
    assert len(before) == 2 and all(statuses == {200} for statuses in before.values()), before

    mark = log_size(server)
    changed = client.post("/auth/password/", {"current_password": PASSWORD, "new_password": "a-new-passphrase-4417"},
                          token=pair["access"])
    assert changed.status == 204
    after = answering_workers(server, client, pair["access"], mark, want=2)
    assert len(after) == 2 and all(statuses == {401} for statuses in after.values()), after
    assert refresh(client, pair["refresh"]).status == 401
    assert client.login(user.email).status == 401
    assert client.login(user.email, "a-new-passphrase-4417").status == 200


def test_bounds_answer_400_and_a_frozen_receiver_looks_unknown(server):
    """Findings 7, 8, 9, 11 and 13: far-off dates and a huge amount are 400 whoever asks about whatever
    account, never 500; a receiver never sees the sender's idempotency key; a frozen receiver is
    indistinguishable from one that does not exist."""
    StaffFactory()
    attacker, victim = UserFactory(), UserFactory()
    own = AccountFactory(owner=attacker, funded=Decimal("50"))
    theirs = AccountFactory(owner=victim, funded=Decimal("10"))
    nobody = new_account_number()
    client = Client(server.port, "198.51.100.80", access(attacker))

    answers = {number: client.get(f"/accounts/{number}/transactions/?to=9999-12-31")
               for number in (theirs.pk, nobody, own.pk)}
    assert {(a.status, a.code) for a in answers.values()} == {(400, "validation_error")}
    assert len({a.body for a in answers.values()}) == 1  # the answer does not depend on whose account it is
    csv = client.get(f"/accounts/{theirs.pk}/transactions/?format=csv&to=9999-12-31")
    assert csv.status == 400 and csv.headers["content-type"].startswith(JSON)

    staff = {name: Client(server.port, "198.51.100.81", access(StaffFactory(roles=[role])))
             for name, role in (("risk", roles.RISK_ANALYST), ("auditor", roles.AUDITOR),
                                ("supervisor", roles.SUPERVISOR), ("teller", roles.TELLER))}
    for who, path in [("risk", "/risk/incidents/?from=0001-01-01T00:00:00%2B01:00"),
                      ("risk", "/risk/incidents/?from=0001-01-01T00:00:00+01:00"),
                      ("risk", "/risk/incidents/?to=9999-12-31T23:59:59-01:00"),
                      ("auditor", "/audit/?from=0001-01-01T00:00:00%2B01:00"),
                      ("supervisor", "/business/daily/?to=9999-12-31"),
                      ("supervisor", "/business/monthly/?from=0001-01-01")]:
        answer = staff[who].get(path)
        assert (answer.status, answer.code) == (400, "validation_error"), (path, answer.body)

    for amount in ("99999999999999999.999", "1000000000.001"):
        answer = staff["teller"].post(f"/accounts/{theirs.pk}/deposit/", {"amount": amount})
        assert (answer.status, answer.code) == (400, "validation_error"), answer.body
    assert Account.objects.get(pk=theirs.pk).balance == Decimal("10")  # the huge deposits wrote nothing

    # Finding 11: the receiver of a transfer never sees the key its sender chose.
    sent = client.post("/transfers/external/", {"sender_account": own.pk, "receiver_account": theirs.pk,
                                                "amount": "1.000"}, headers={"Idempotency-Key": "attacker-key-1"})
    assert sent.status == 201 and sent.json["idempotency_key"] == "attacker-key-1"
    seen = Client(server.port, "198.51.100.82", access(victim)).get(f"/transfers/{sent.json['id']}/").json
    assert seen["idempotency_key"] is None and seen["sender_balance_after"] is None

    frozen = staff["teller"].call("PATCH", f"/accounts/{theirs.pk}/", {"is_active": False})
    assert frozen.status == 200 and frozen.json["is_active"] is False
    refusals = [client.post("/transfers/external/", {"sender_account": own.pk, "receiver_account": number,
                                                      "amount": "1.000"}) for number in (theirs.pk, nobody)]
    assert [(a.status, a.code) for a in refusals] == [(422, "receiver_not_found")] * 2
    assert refusals[0].json == refusals[1].json
    assert Transaction.objects.filter(receiver_account=theirs.pk, kind="external").count() == 1  # before the freeze
