"""A client generated from the served schema (openapi-python-client) drives the README's curl session.

The schema the app serves at ``/api/schema/`` is what client authors feed their generators. This test
does the same: it generates a Python client from it, imports it and runs the session of the README
(register, log in, open two accounts, the demo teller's deposit, a transfer and its replay, the
statement as JSON and as CSV) through the generated ``sync_detailed`` functions only. The generated
code parses every answer with the model and the media type the schema declares, so a wrong content
type, a missing or mistyped field or an undocumented status (``raise_on_unexpected_status``) fails here.
"""

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from api import roles
from tests.factories import role_groups
from tests.hardening.server import Server, end_server_sessions

PACKAGE = "nexus_generated_client"
TELLER = {"email": "teller@nexus.local", "password": "Teller-Demo-Pass-2026"}  # seed_demo's, as in the README


def generate_client(schema: dict, directory: Path):
    """openapi-python-client on the schema; any warning (an operation or response it had to leave out) fails."""
    (directory / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (directory / "config.json").write_text(json.dumps({"post_hooks": []}), encoding="utf-8")  # no ruff formatting
    result = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate",
                             "--path", str(directory / "schema.json"), "--config", str(directory / "config.json"),
                             "--output-path", str(directory / PACKAGE), "--meta", "none", "--fail-on-warning"],
                            capture_output=True, text=True, timeout=120, cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


def forget_client(directory: Path) -> None:
    sys.path.remove(str(directory))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def operation(package, operation_id: str):
    """The generated module of an operation: ``<package>/api/<tag>/<operation_id>.py``."""
    module = next(Path(package.__file__).parent.glob(f"api/*/{operation_id}.py"), None)
    assert module is not None, f"openapi-python-client generated no function for {operation_id}"
    return importlib.import_module(f"{PACKAGE}.api.{module.parent.name}.{module.stem}")


def drive_readme_session(package, schema: dict, base_url: str) -> None:
    AuthenticatedClient, Client = package.AuthenticatedClient, package.Client
    models = importlib.import_module(f"{PACKAGE}.models")

    def call(operation_id: str, *args, **kwargs):
        return operation(package, operation_id).sync_detailed(*args, **kwargs)

    options = {"base_url": base_url, "raise_on_unexpected_status": True, "timeout": httpx.Timeout(30)}
    # No Authorization header, as in the README. (Register and log in declare `security: [{}]`, anonymous
    # allowed, which openapi-python-client types as `client: AuthenticatedClient`: only a type checker minds.)
    anonymous = Client(**options)

    # 1. Register a customer
    email, password = f"dana.{uuid.uuid4().hex[:12]}@example.com", "Olive-Harbour-1987"
    registered = call("auth_register", client=anonymous,
                      body=models.RegisterRequest(email=email, password=password, first_name="Dana"))
    assert registered.status_code == 201, registered.content
    assert isinstance(registered.parsed, models.Register) and registered.parsed.email == email

    # 2. Log in
    def login(credentials: dict):
        answer = call("auth_jwt_create", client=anonymous, body=models.LoginRequest(**credentials))
        assert answer.status_code == 200 and isinstance(answer.parsed, models.TokenPair), answer.content
        return AuthenticatedClient(token=answer.parsed.access, **options)

    customer = login({"email": email, "password": password})

    # 3. Open two accounts: JOD savings and USD
    def open_account(kind: str):
        answer = call("accounts_create", client=customer, body=models.AccountCreateRequest(type_=kind))
        assert answer.status_code == 201 and isinstance(answer.parsed, models.Account), answer.content
        return answer.parsed

    jod, usd = open_account(models.TypeEnum("Savings")), open_account(models.TypeEnum("USD"))
    assert (jod.currency, jod.balance, usd.currency, usd.balance) == ("JOD", "0.000", "USD", "0.00")

    # 4. The demo teller deposits 500 JOD in cash
    teller = login(TELLER)
    deposit = call("accounts_deposit", jod.account_number, client=teller, idempotency_key=str(uuid.uuid4()),
                   body=models.DepositRequest(amount="500.000", description="Cash at the branch"))
    assert deposit.status_code == 201 and isinstance(deposit.parsed, models.Transaction), deposit.content
    assert (deposit.parsed.kind, deposit.parsed.status, deposit.parsed.receiver_balance_after) == (
        "deposit", "SUCCESS", "500.000")

    # 5. Transfer 100 JOD to the USD account, with a new idempotency key; 6. the same request again
    key = str(uuid.uuid4())

    def transfer():
        return call("transfers_internal_create", client=customer, idempotency_key=key,
                    body=models.TransferCreateRequest(sender_account=jod.account_number,
                                                      receiver_account=usd.account_number, amount="100.000"))

    first, again = transfer(), transfer()
    assert first.status_code == 201 and isinstance(first.parsed, models.Transaction), first.content
    sent = first.parsed
    assert (sent.sender_account, sent.receiver_account, sent.amount) == (jod.account_number, usd.account_number,
                                                                         "100.000")
    assert (sent.credited_amount, sent.credited_currency, sent.sender_balance_after) == ("141.00", "USD", "400.000")
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true", again.content
    assert again.content == first.content and again.parsed == first.parsed

    # The statement as JSON: the lines the CSV holds too, newest first
    statement = call("accounts_transactions_list", jod.account_number, client=customer)
    assert statement.status_code == 200, statement.content
    assert isinstance(statement.parsed, models.PaginatedStatementLineList)
    assert [(line.kind, line.direction, line.amount, line.balance_after) for line in statement.parsed.results] == [
        ("internal", "debit", "100.000", "400.000"), ("deposit", "credit", "500.000", "500.000")]

    # 7. The JOD account's statement as CSV
    # (its own operation: openapi-python-client reads the first media type of a response only)
    download = call("accounts_statement_csv", jod.account_number, client=customer)
    assert download.status_code == 200, download.content
    assert download.headers["Content-Type"].startswith("text/csv"), download.headers
    assert isinstance(download.parsed, str) and download.parsed == download.content.decode("utf-8")
    header, *rows = download.parsed.splitlines()
    assert header.startswith("transaction_id,kind,direction,amount,currency,balance_after")
    assert [row.split(",")[1:4] for row in rows] == [["internal", "debit", "100.000"],
                                                     ["deposit", "credit", "500.000"]]


@pytest.mark.django_db(transaction=True)
def test_a_client_generated_from_the_schema_drives_the_readme_session(tmp_path):
    role_groups(roles.ROLES)  # seeded by migrations; an earlier transactional test's flush removed them
    call_command("seed_demo", "--force")  # the demo teller of the README's session
    server = Server(tmp_path / "gunicorn.log")
    server.start()
    base_url = f"http://127.0.0.1:{server.port}"
    try:
        served = httpx.get(f"{base_url}/api/schema/", params={"format": "json"}, timeout=60)
        assert served.status_code == 200, served.content[:2000]
        schema = served.json()
        package = generate_client(schema, tmp_path)
        try:
            drive_readme_session(package, schema, base_url)
        finally:
            forget_client(tmp_path)
    finally:
        server.stop()
        end_server_sessions()
