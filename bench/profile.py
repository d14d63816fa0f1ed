"""Where a request's CPU goes, by stage: ``python -m bench --profile``.

py-spy samples the gunicorn workers and the job worker from outside (no instrumentation in the app,
so the shares are those of the app as shipped; it counts a thread only while it runs on a CPU, not while
it waits for PostgreSQL or a client). Each sample's stack is put in the innermost stage it passes
through (:data:`STAGES`, matched from the outermost frame inwards, the last match wins); within a
stage, the part spent in the database driver is told apart (``... SQL``: building the statement,
sending it and reading its rows, i.e. the round trips' CPU on the app's side). The scenario's measured
CPU per request (gunicorn, job worker and PostgreSQL, from the same window) turns the shares into
milliseconds.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

# (stage, markers): a frame marks the stage when its text (function and file, as py-spy writes it)
# contains one of the markers. Listed from the outermost to the innermost stage.
STAGES = (
    ("gunicorn: HTTP and sockets", ("gunicorn/",)),
    ("middleware and Django's handler", ("django/core/handlers/",)),
    ("view dispatch (DRF)", ("rest_framework/views.py",)),
    ("authentication (token, user row)", ("perform_authentication", "api/authentication.py")),
    ("throttle", ("check_throttles", "nexus/throttles.py")),
    ("permissions", ("check_permissions",)),
    ("parsing and validation", ("read_body (", "is_valid (", "rest_framework/parsers.py")),
    ("step-up check", ("needs_code (", "confirm_step_up (", "guard (", "check (api/views/stepup")),
    # api/idempotency.py ran the money request before issue 22 (the same stage, for a before/after table)
    ("service: claim, locks, checks, book, commit", ("money_request.py", "api/idempotency.py")),
    ("rendering the answer", ("to_representation (", "finalize_response (", "rendered_content (", "remember (")),
    ("access log", ("logging/__init__.py", "nexus/logging.py")),
)
SQL_MARKERS = ("psycopg/", "django/db/backends/", "django/db/models/sql/compiler.py")
JOB_WORKER = "job worker (reactions)"


def available() -> str | None:
    """None when py-spy can run here, else why not."""
    if shutil.which("py-spy") is None and not (Path(sys.executable).parent / "py-spy").exists():
        return "py-spy is not installed (requirements-dev.txt)"
    return None


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


class Recorder:
    """py-spy recording a process (and its children) for as long as it runs."""

    def __init__(self, pid: int, path: Path, *, subprocesses: bool, rate: int = 250):
        # --gil: only the samples of a thread holding the GIL, i.e. running Python code (a worker waiting for
        # PostgreSQL or a client has released it); py-spy's own idle detection counts those waits as busy.
        command = [_py_spy(), "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate), "--gil",
                   "--nonblocking", "--output", str(path)]
        if subprocesses:
            command.append("--subprocesses")
        self.path = path
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> Path:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return self.path


def stage_of(stack: str) -> str:
    frames = stack.split(";")
    stage = "other"
    for frame in frames:
        for name, markers in STAGES:
            if any(marker in frame for marker in markers):
                stage = name
    if any(marker in frame for frame in frames for marker in SQL_MARKERS):
        stage += " · SQL"
    return stage


def read_samples(path: Path) -> Counter:
    """py-spy's raw (collapsed) output: one ``frame;frame;... count`` line per distinct stack."""
    samples: Counter = Counter()
    if not path.exists():
        return samples
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[stage_of(stack)] += int(count)
    return samples


def table(web: Counter, worker: int, *, requests: int, cpu: dict, seconds: float) -> list[dict]:
    """Rows (stage, share of the web CPU, CPU ms per request) for the web stages, then the job worker and
    PostgreSQL from the window's CPU meters."""
    total = sum(web.values()) or 1
    web_ms = cpu["gunicorn_pct"] / 100 * seconds * 1000 / requests if requests else 0.0
    rows = [{"stage": stage, "share_pct": round(100 * count / total, 1), "cpu_ms": round(web_ms * count / total, 3)}
            for stage, count in sorted(web.items(), key=lambda item: -item[1])]
    for stage, pct in ((JOB_WORKER, cpu["worker_pct"]), ("PostgreSQL (all backends)", cpu["postgres_pct"])):
        rows.append({"stage": stage, "share_pct": None,
                     "cpu_ms": round(pct / 100 * seconds * 1000 / requests, 3) if requests else None})
    rows.append({"stage": "web total", "share_pct": 100.0, "cpu_ms": round(web_ms, 3)})
    return rows


def render(name: str, rows: list[dict]) -> str:
    lines = [f"CPU per request, {name} (py-spy samples of the gunicorn workers; job worker and PostgreSQL "
             "from their CPU meters)", f"  {'stage':52} {'share':>7} {'ms':>8}"]
    for row in rows:
        share = "" if row["share_pct"] is None else f"{row['share_pct']:.1f}%"
        lines.append(f"  {row['stage']:52} {share:>7} {row['cpu_ms'] if row['cpu_ms'] is not None else '':>8}")
    return "\n".join(lines)
