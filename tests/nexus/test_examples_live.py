"""Every example request of the guide and of the reference, sent to a live demo bank.

One server (gunicorn, as ``tests/hardening/server.py`` starts it) on one seed (``seed_demo``), then:

- **the guide**: every curl command of ``docs/API.md`` runs in ``sh`` as pasted, with the shell
  variables its *Trying the examples* table names (``BASE``, ``TOKEN``, ``OTP``, ...) set as it says;
- **the reference**: every request example of every operation of the served schema is sent as Swagger
  UI's *Execute* sends it, parameters filled from their examples, by the demo user of a role the
  operation allows; the ids a path needs come from earlier answers, as a client would take them.

Each answer must be a status the schema documents for that operation, and a success (or the status a
guide's ``# -> NNN`` line announces). An example that fails when pasted is a bug of the example
(``docs/API.md``, ``api/demo.py``, the views' examples), not of this test.
"""

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pyotp
import pytest
from django.core.management import call_command

from api import demo, roles
from api.management.commands.seed_demo import CUSTOMERS, ROLE_USERS
from api.models import User
from risk.models import Incident
from tests.factories import role_groups
from tests.hardening.server import ROOT, Server, end_server_sessions

# The demo bank's logins by first word of their email: alice, bob, teller, supervisor, risk, auditor.
LOGINS = {email.split("@")[0]: (email, password) for email, password, *_ in [*ROLE_USERS, *CUSTOMERS]}
CURL = re.compile(r"^(?:\$ )?curl ")


class Bank:
    """The demo bank as the examples' reader knows it: the schema, tokens, ids read from answers, codes."""

    def __init__(self, base_url: str, schema: dict):
        self.base_url, self.schema = base_url, schema
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.ids: dict[str, object] = {}  # "alice.access", "card", "approval", ...
        self.steps: dict[str, int] = {}  # the last time step used per authenticator secret
        self.failures: list[str] = []
        self.checked: list[str] = []

    def login(self, who: str) -> None:
        email, password = LOGINS[who]
        answer = self.http.post("/auth/jwt/create/", json={"email": email, "password": password}).json()
        self.ids[f"{who}.access"], self.ids[f"{who}.refresh"] = answer["access"], answer["refresh"]

    def totp(self, who: str) -> str:
        """A code of ``who``'s authenticator the server has not seen yet: one step later than the last one
        used (the server accepts one step either side of now), so the run never waits 30 s."""
        secret = self.ids[f"{who}.secret"]
        step = max(self.steps.get(secret, 0) + 1, int(time.time() // 30) - 1)
        self.steps[secret] = step
        return pyotp.TOTP(secret).at(step * 30)

    def value(self, name: str):
        """What the reader puts where the example holds a placeholder: a token or id kept from an answer, a
        current code (``totp:alice``), an unused recovery code (``recovery:alice``)."""
        kind, _, who = name.partition(":")
        if kind == "totp":
            return self.totp(who)
        if kind == "recovery":
            return self.ids[f"{who}.recovery"].pop()
        return self.ids[name]

    def keep(self, answer, names: dict[str, str]) -> None:
        for name, path in names.items():
            value = answer
            for part in path.split("."):
                value = value[int(part)] if isinstance(value, list) else value[part]
            self.ids[name] = value

    def confirm_two_factor(self, who: str, secret: str) -> None:
        """The guide's next step after ``/auth/2fa/setup/``: confirm with a code; keep the recovery codes."""
        self.ids[f"{who}.secret"] = secret
        answer = self.http.post("/auth/2fa/confirm/", json={"code": self.totp(who)},
                                headers={"Authorization": f"Bearer {self.ids[f'{who}.access']}"})
        assert answer.status_code == 200, answer.text
        self.ids[f"{who}.recovery"] = answer.json()["recovery_codes"]

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        """The operation of the schema that ``method path`` calls."""
        for template, operations in self.schema["paths"].items():
            pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]+\})", template))
            if re.fullmatch(pattern, path) and method.lower() in operations:
                return template, operations[method.lower()]
        raise AssertionError(f"{method} {path}: no such operation in the schema")

    def check(self, what: str, method: str, path: str, status: int, text: str, expected: int | None = None) -> None:
        responses = self.operation(method, path)[1]["responses"]
        self.checked.append(f"{status} {what}")
        if str(status) not in responses or not (status == expected if expected else 200 <= status < 300):
            self.failures.append(f"{what}: {method} {path} answered {status}, expected "
                                 f"{expected or 'a success'} among {sorted(responses)}: {text[:300]}")


# --- the guide -------------------------------------------------------------------------------

def guide_commands() -> list[tuple[str, int | None]]:
    """Each curl command of docs/API.md (``sh`` blocks, and ``$ curl`` lines of transcripts) with the
    status its ``-> NNN`` comment announces, if any."""
    text = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    commands = []
    for language, block in re.findall(r"```(\w+)\n(.*?)```", text, re.DOTALL):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            if language == "sh" and line.strip() and not line.startswith("#"):
                assert CURL.match(line), f"docs/API.md: a line of an sh block this test cannot run: {line}"
            if not CURL.match(line):
                index += 1
                continue
            command = [line.removeprefix("$ ")]
            while command[-1].endswith("\\"):
                index += 1
                command.append(lines[index])
            index += 1
            command[-1], _, announced = command[-1].partition("  -> ")  # a transcript's answer on the same line
            if not announced and index < len(lines) and lines[index].startswith("# -> "):
                announced = lines[index].removeprefix("# -> ")
            status = re.match(r"(\d{3}) ", announced)
            commands.append(("\n".join(command).strip(), int(status.group(1)) if status else None))
    return commands


def run_guide(bank: Bank, port: int) -> None:
    for who in ("alice", "bob", "teller", "supervisor"):
        bank.login(who)
    variables = {"BASE": bank.base_url, "TOKEN": bank.ids["alice.access"], "PASSWORD": LOGINS["alice"][1],
                 "TELLER": bank.ids["teller.access"], "SUPERVISOR": bank.ids["supervisor.access"],
                 "ACCOUNT": demo.BOB_JOD}
    commands = guide_commands()
    assert len(commands) >= 5, commands
    for command, expected in commands:
        # A transcript's server is the demo's address; this one listens elsewhere.
        command = re.sub(r"(localhost|127\.0\.0\.1):8000", f"127.0.0.1:{port}", command)
        env = {"PATH": os.environ["PATH"], **variables}
        if "$OTP" in command:
            env["OTP"] = bank.totp("alice")
        result = subprocess.run(["sh", "-c", command + " -w '\\n%{method} %{url_effective} %{http_code}'"],
                                capture_output=True, text=True, timeout=60, env=env)
        body, _, status_line = result.stdout.rpartition("\n")
        assert result.returncode == 0 and status_line, (command, result.stdout, result.stderr)
        method, url, status = status_line.split(" ")
        path = "/" + url.split("/", 3)[3].split("?")[0]
        bank.check(f"docs/API.md `{command.splitlines()[0]}`", method, path, int(status), body, expected)
        answer = json.loads(body) if body.startswith("{") else {}
        if "approval_id" in answer:
            variables["APPROVAL_ID"] = answer["approval_id"]
        if "interval" in answer:  # a standing order
            variables["ORDER_ID"] = answer["id"]
        if "secret" in answer:
            bank.confirm_two_factor("alice", answer["secret"])


# --- the reference -----------------------------------------------------------------------------

@dataclass
class Step:
    """One operation sent with each of its request examples by ``who`` (None: no token)."""

    operation: str
    who: str | None
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> a name for Bank.value
    body: dict[str, str] = field(default_factory=dict)  # body field -> a name for Bank.value
    keep: dict[str, str] = field(default_factory=dict)  # name -> a dotted path in the answer
    lines: bool = False  # a list that answers lines on the demo bank (a statement Execute found empty once)


def tokens_of(who: str) -> dict[str, str]:
    return {f"{who}.access": "access", f"{who}.refresh": "refresh"}


# In the order a reader would go, so that every id a path names exists by then. Alice turned 2FA on in
# the guide's examples; her password changes last, since it ends her sessions.
PLAN = [
    Step("health", None),
    Step("auth_register", None),
    Step("auth_jwt_create", None, keep={"mfa_token": "mfa_token"}),
    Step("auth_two_factor_verify", None, body={"mfa_token": "mfa_token", "code": "recovery:alice"},
         keep=tokens_of("alice")),
    Step("auth_jwt_refresh", None, body={"refresh": "alice.refresh"}, keep=tokens_of("alice")),
    Step("auth_me_retrieve", "alice"),
    Step("auth_me_partial_update", "alice"),
    Step("fx_rates_retrieve", None),
    Step("fx_quote_retrieve", None),
    Step("accounts_list", "alice"),
    Step("accounts_create", "alice"),
    Step("accounts_retrieve", "alice"),
    Step("accounts_transactions_list", "alice", lines=True),
    Step("accounts_statement_csv", "alice", lines=True),
    Step("accounts_cards_create", "alice", keep={"card": "id"}),
    Step("accounts_cards_list", "alice"),
    Step("cards_retrieve", "alice", ids={"card_id": "card"}),
    Step("cards_partial_update", "alice", ids={"card_id": "card"}),
    Step("transfers_internal_create", "alice", keep={"internal": "id"}),
    Step("transfers_internal_list", "alice"),
    Step("transfers_external_create", "alice", keep={"external": "id"}),
    Step("transfers_external_list", "alice"),
    Step("standing_orders_create", "alice", keep={"order": "id"}),
    Step("standing_orders_list", "alice"),
    Step("standing_orders_retrieve", "alice", ids={"order_id": "order"}),
    Step("standing_orders_runs_list", "alice", ids={"order_id": "order"}),
    Step("standing_orders_destroy", "alice", ids={"order_id": "order"}),
    Step("transfers_retrieve", "alice", ids={"transaction_id": "external"}),
    Step("billers_list", "alice"),
    Step("bill_create", "alice", keep={"bill": "id"}),
    Step("bill_list", "alice"),
    Step("bill_retrieve", "alice", ids={"bill_id": "bill"}),
    Step("notifications_list", "alice", keep={"notification": "results.0.id"}),
    Step("notifications_read", "alice", ids={"id": "notification"}),
    Step("notifications_read_all", "alice"),
    Step("accounts_deposit", "teller"),
    # A teller's reversals are held: one to approve, one to reject.
    Step("transfers_reverse", "teller", ids={"transaction_id": "external"}, keep={"approval": "approval_id"}),
    Step("transfers_reverse", "teller", ids={"transaction_id": "internal"}, keep={"to reject": "approval_id"}),
    Step("approvals_list", "supervisor"),
    Step("approvals_retrieve", "supervisor", ids={"approval_id": "approval"}),
    Step("approvals_approve", "supervisor", ids={"approval_id": "approval"}),
    Step("approvals_reject", "supervisor", ids={"approval_id": "to reject"}),
    Step("accounts_partial_update", "teller"),  # freezes Alice's JOD account: nothing after uses it
    Step("users_block", "supervisor", ids={"id": "bob"}),
    Step("users_unblock", "supervisor", ids={"id": "bob"}),
    Step("users_revoke_sessions_create", "supervisor", ids={"id": "bob"}),
    Step("users_reset_two_factor_create", "supervisor", ids={"id": "bob"}),
    Step("risk_incidents_list", "risk"),
    Step("risk_incidents_retrieve", "risk", ids={"id": "incident"}),
    Step("risk_incidents_partial_update", "risk", ids={"id": "incident"}),
    Step("risk_login_events_list", "risk"),
    Step("risk_blacklist_create", "risk", keep={"entry": "id"}),
    Step("risk_blacklist_list", "risk"),
    Step("risk_blacklist_destroy", "risk", ids={"id": "entry"}),
    Step("audit_list", "auditor"),
    Step("business_overview_retrieve", "auditor"),
    Step("business_daily_retrieve", "auditor"),
    Step("business_weekly_retrieve", "auditor"),
    Step("business_monthly_retrieve", "auditor"),
    Step("auth_two_factor_disable", "alice", body={"code": "recovery:alice"}),
    Step("auth_two_factor_setup", "alice", keep={"alice.secret": "secret"}),
    Step("auth_two_factor_confirm", "alice", body={"code": "totp:alice"}),
    Step("auth_jwt_logout", "alice", body={"refresh": "alice.refresh"}),
    Step("auth_password_create", "alice"),
]


def operations(schema: dict) -> dict[str, tuple[str, str, dict]]:
    return {operation["operationId"]: (method.upper(), path, operation)
            for path, methods in schema["paths"].items() for method, operation in methods.items()}


def parameter_example(parameter: dict):
    """What Swagger UI puts in a parameter's box: its first example, else its schema's."""
    examples = parameter.get("examples")
    if examples:
        return next(iter(examples.values()))["value"]
    return parameter.get("example", parameter.get("schema", {}).get("example"))


def send(bank: Bank, step: Step) -> None:
    method, template, operation = operations(bank.schema)[step.operation]
    path, query = template, {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = bank.value(step.ids[parameter["name"]]) if parameter["name"] in step.ids \
                else parameter_example(parameter)
            assert value is not None, f"{step.operation}: no value for {{{parameter['name']}}}"
            path = path.replace(f"{{{parameter['name']}}}", str(value))
        elif parameter["in"] == "query" and parameter_example(parameter) is not None:
            query[parameter["name"]] = parameter_example(parameter)
        elif parameter["in"] == "query":
            assert not parameter.get("required"), f"{step.operation}: required ?{parameter['name']} has no example"
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    examples = [(name, example["value"]) for name, example in media.get("examples", {}).items()] or [("", None)]
    headers = {"Authorization": f"Bearer {bank.ids[f'{step.who}.access']}"} if step.who else {}
    for name, example in examples:
        body = None if example is None else {**example, **{key: bank.value(value) for key, value in step.body.items()}}
        answer = bank.http.request(method, path, params=query, json=body, headers=headers)
        bank.check(f"{step.operation} {name}".strip(), method, path, answer.status_code, answer.text)
        if step.lines and answer.is_success:
            found = (len(answer.text.strip().splitlines()) - 1 if "csv" in answer.headers.get("Content-Type", "")
                     else len(answer.json()["results"]))
            if not found:
                bank.failures.append(f"{step.operation}: {method} {path}?{query} answers no line on the demo bank")
        if step.keep and answer.is_success:
            bank.keep(answer.json(), step.keep)


def run_reference(bank: Bank) -> None:
    known = operations(bank.schema)
    planned = {step.operation for step in PLAN}
    assert planned <= set(known), f"operations the schema no longer has: {planned - set(known)}"
    assert set(known) <= planned, f"operations this test does not send yet (add them to PLAN): {set(known) - planned}"
    for who in ("teller", "supervisor", "risk", "auditor"):
        bank.login(who)
    bank.ids["bob"] = str(User.objects.get(email=LOGINS["bob"][0]).pk)
    # What a risk analyst finds in the incident list: the demo bank has none until a rule fires.
    bank.ids["incident"] = str(Incident.objects.create(
        code="brute_force", event="Brute force suspected", severity=Incident.Severity.HIGH,
        subject=LOGINS["bob"][0], dedup_key=uuid.uuid4().hex, ip="198.51.100.4",
        details={"email": LOGINS["bob"][0], "failed_attempts_10m": 5}).pk)
    for step in PLAN:
        send(bank, step)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed: the guide's examples need it")
@pytest.mark.django_db(transaction=True)
def test_every_example_of_the_guide_and_the_reference_works_on_the_demo_bank(tmp_path):
    role_groups(roles.ROLES)  # seeded by migrations; an earlier transactional test's flush removed them
    call_command("seed_demo", "--force")
    server = Server(tmp_path / "gunicorn.log")
    server.start()
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        schema = httpx.get(f"{base_url}/api/schema/", params={"format": "json"}, timeout=60).json()
        bank = Bank(base_url, schema)
        run_guide(bank, server.port)
        run_reference(bank)
    finally:
        server.stop()
        end_server_sessions()
    assert not bank.failures, f"{len(bank.failures)} of {len(bank.checked)} examples failed:\n" + "\n".join(bank.failures)
