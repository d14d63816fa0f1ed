"""Create .venv and install requirements-dev.txt (the runtime set, plus the embedded PostgreSQL, tests
and tools) into it when missing or changed. Stdlib only."""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements-dev.txt"
RUNTIME = ROOT / "requirements.txt"  # included by REQUIREMENTS
STAMP = VENV / ".requirements.sha256"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by any python3
        sys.exit("Nexus Bank needs Python 3.11 or newer.")
    python = venv_python()
    if not python.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + RUNTIME.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("Installing requirements (first run, or a requirements file changed) ...", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True, cwd=ROOT)
        STAMP.write_text(digest)
    return python


def run(python: Path, *args: str, env: dict | None = None) -> None:
    result = subprocess.run([str(python), *args], cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode:
        sys.exit(result.returncode)


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_SKIP_VARIABLE = "NEXUS_BROWSER_UNAVAILABLE"


def ensure_browser() -> dict:
    """Install Debian's chromium and chromium-driver for the browser tests when they are missing.

    Returns extra environment for the test run: when no browser can be installed, the reason,
    which the browser tests print when they skip.
    """
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return {}
    apt = shutil.which("apt-get")
    if apt is None:
        return {BROWSER_SKIP_VARIABLE: "no apt-get on this machine to install chromium and chromium-driver"}
    if os.name != "posix" or os.geteuid() != 0:
        return {BROWSER_SKIP_VARIABLE: "not root, so apt-get cannot install chromium and chromium-driver "
                                       "(run: sudo apt-get install chromium chromium-driver)"}
    print("Installing chromium and chromium-driver for the browser tests (apt-get, once) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another engineer's run may hold apt's lock: wait for it rather than fail.
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    for step in (["update"], ["-y", "--no-install-recommends", "install", "chromium", "chromium-driver"]):
        result = subprocess.run([apt, *wait, "-qq", *step], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return {BROWSER_SKIP_VARIABLE: f"apt-get {' '.join(step)} failed (exit {result.returncode}): {last}"}
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return {BROWSER_SKIP_VARIABLE: "apt-get installed chromium but /usr/bin/chromium or /usr/bin/chromedriver is missing"}
    return {}
