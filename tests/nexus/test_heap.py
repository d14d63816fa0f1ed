"""nexus.heap: a server process (web or job worker) freezes what loading made and collects its youngest
generation less often."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORT = "import gc; print(gc.get_freeze_count(), *gc.get_threshold())"


def _run(code: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy(), capture_output=True,
                          text=True, timeout=120, check=True)
    return [int(word) for word in done.stdout.split()[-4:]]


def test_settle_freezes_the_loaded_heap_and_collects_the_youngest_less_often():
    frozen, youngest, middle, oldest = _run(f"import django; django.setup(); from nexus import heap; heap.settle(); "
                                            f"import sys; assert 'api.views.accounts' in sys.modules; {REPORT}")
    assert frozen > 1000  # the interpreter's own objects at least
    assert (youngest, middle, oldest) == (2000, *_run(REPORT)[2:])  # only the youngest generation's changes


@pytest.mark.parametrize("entry_point", ["nexus.wsgi", "nexus.asgi"])
def test_both_entry_points_settle_once_the_app_has_loaded(entry_point):
    frozen, youngest, _, _ = _run(f"import {entry_point}; {REPORT}")
    assert frozen > 50_000  # Django, DRF and the project's modules, URL patterns and settings
    assert youngest == 2000


def test_the_job_worker_settles_before_its_loop(monkeypatch):
    from django.core.management import call_command

    from nexus import heap, jobs

    calls = []
    monkeypatch.setattr(heap, "settle", lambda: calls.append("settled"))
    monkeypatch.setattr(jobs, "run_worker", lambda **kwargs: calls.append("loop"))
    with open(os.devnull, "w") as quiet:
        call_command("run_worker", once=True, stdout=quiet)
    assert calls == ["settled", "loop"]
