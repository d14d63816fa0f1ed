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


def _apt_install(packages: list[str], what: str) -> str | None:
    """apt-get install ``packages`` as root; None when done, else why not."""
    apt = shutil.which("apt-get")
    if apt is None:
        return f"no apt-get on this machine to install {what}"
    if os.name != "posix" or os.geteuid() != 0:
        return f"not root, so apt-get cannot install {what} (run: sudo apt-get install {' '.join(packages)})"
    print(f"Installing {' '.join(packages)} (apt-get, once) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    for step in (["update"], ["-y", "--no-install-recommends", "install", *packages]):
        try:
            result = subprocess.run([apt, *wait, "-qq", *step], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return f"apt-get {' '.join(step)} did not finish in 15 minutes"
        if result.returncode:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return f"apt-get {' '.join(step)} failed (exit {result.returncode}): {last}"
    return None


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
    reason = _apt_install(["chromium", "chromium-driver"], "chromium and chromium-driver for the browser tests")
    if reason:
        return {BROWSER_SKIP_VARIABLE: reason}
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return {BROWSER_SKIP_VARIABLE: "apt-get installed chromium but /usr/bin/chromium or /usr/bin/chromedriver is missing"}
    return {}


# Debian's packages for the compose tests (tests/compose): the engine, compose v1, and debootstrap for
# the base image (no container registry is reachable here, so every image is built from Debian and PyPI).
DOCKER_PACKAGES = {"docker.io": "/usr/sbin/dockerd", "docker-compose": "/usr/bin/docker-compose",
                   "debootstrap": "/usr/sbin/debootstrap"}
DOCKER_SKIP_VARIABLE = "NEXUS_COMPOSE_UNAVAILABLE"


def ensure_valgrind() -> str | None:
    """Install Debian's valgrind when missing (``bench.instructions`` counts instructions with its
    callgrind); None when it is there, else why it is not."""
    if shutil.which("valgrind") and shutil.which("callgrind_control"):
        return None
    reason = _apt_install(["valgrind"], "valgrind for counting instructions")
    if reason is None and not shutil.which("callgrind_control"):
        reason = "apt-get installed valgrind but callgrind_control is missing"
    return reason


def ensure_docker() -> dict:
    """Install Debian's docker.io, docker-compose and debootstrap for the compose tests when missing.

    Returns extra environment for the test run: when they cannot be installed, the reason, which the
    compose tests print when they skip. Whether a daemon can run is the tests' own question.
    """
    missing = [package for package, path in DOCKER_PACKAGES.items() if not Path(path).exists()]
    if missing:
        reason = _apt_install(missing, "the container engine for the compose tests")
        if reason is None and not all(Path(path).exists() for path in DOCKER_PACKAGES.values()):
            reason = f"apt-get installed {' '.join(missing)} but {', '.join(DOCKER_PACKAGES.values())} are not all there"
        if reason:
            return {DOCKER_SKIP_VARIABLE: reason}
    return {}
