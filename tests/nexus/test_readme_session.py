"""The README's curl session works when pasted: the very block, run by ``sh`` against a live server."""

import os
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command

from api import roles
from tests.factories import role_groups
from tests.hardening.server import ROOT, Server, end_server_sessions


def readme_session() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A first session with curl"):]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed: the README session needs it")
@pytest.mark.django_db(transaction=True)
def test_the_readme_curl_session_works_when_pasted(tmp_path):
    role_groups(roles.ROLES)  # seeded by migrations; an earlier transactional test's flush removed them
    call_command("seed_demo", "--force")  # what scripts/run.py does: the demo teller the session uses
    server = Server(tmp_path / "gunicorn.log")
    server.start()
    try:
        result = subprocess.run(["sh", "-s"], input=readme_session(), capture_output=True, text=True, timeout=120,
                                env={"PATH": os.environ["PATH"], "BASE": f"http://127.0.0.1:{server.port}"})
    finally:
        server.stop()
        end_server_sessions()
    assert_session_printed(result)


def assert_session_printed(result: subprocess.CompletedProcess, *, header_case: int = 0) -> None:
    """What the README says the session prints (tests/compose pass ``re.IGNORECASE``: HAProxy sends
    header names in lower case)."""
    out = result.stdout
    assert result.returncode == 0 and not result.stderr, (out, result.stderr)
    jod, usd = re.search(r"JOD account (\d{12}), USD account (\d{12})", out).groups()
    assert '"kind":"deposit","status":"SUCCESS"' in out and '"receiver_balance_after":"500.000"' in out
    assert f'"sender_account":"{jod}","receiver_account":"{usd}"' in out
    assert '"credited_amount":"141.00","credited_currency":"USD"' in out and '"sender_balance_after":"400.000"' in out
    assert re.search(r"^HTTP/1\.1 201 Created\r?\nIdempotent-Replayed: true\r?$", out, re.MULTILINE | header_case), out
    csv = out[out.index("transaction_id,kind,direction"):].splitlines()
    assert [line.split(",")[1:4] for line in csv[1:]] == [["internal", "debit", "100.000"],
                                                          ["deposit", "credit", "500.000"]]
