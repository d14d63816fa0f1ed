"""The local base image: Debian bookworm by debootstrap from this machine's own apt mirror, plus Python,
the app's requirements, Patroni and the services' Debian packages; cached by a hash of its recipe.

No container registry is reachable here, so neither ``python:3.12-slim`` nor ``postgres:16-bookworm``
can be pulled. Everything comes from the package registries the machine reaches:

1. ``debootstrap --variant=minbase bookworm`` from the Debian mirror of this machine's apt sources
   (read from /etc/apt, never written here), into a directory on the host;
2. in that root (chroot, with the host's network): Debian's python3, PostgreSQL 15, etcd, PgBouncer,
   Redis and HAProxy, a virtualenv /opt/venv with requirements.txt and one /opt/patroni with
   cluster/requirements-patroni.txt, the paths the repository's Dockerfiles use;
3. ``docker import`` of that tree as ``nexus-local/base``, with PATH leading to both.

So the repository's Dockerfiles build on it without the network: what they would install is there
already (``pip install`` of pinned, installed requirements does not reach the index). The image is
saved (``docker save``) under /var/cache/nexus-compose, outside the clone, named by the hash of its
recipe: this file, the apt sources used, the requirements files. The next run loads it in seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .daemon import DOCKER, Daemon, Unavailable, remove_tree

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("NEXUS_COMPOSE_CACHE", "/var/cache/nexus-compose"))
IMAGE = "nexus-local/base"
SUITE = "bookworm"
PG_MAJOR = "15"  # bookworm's PostgreSQL
PACKAGES = ["python3", "python3-venv", "ca-certificates", "tzdata", f"postgresql-{PG_MAJOR}", "etcd-server",
            "pgbouncer", "redis-server", "haproxy"]
REQUIREMENTS = ROOT / "requirements.txt"
PATRONI_REQUIREMENTS = ROOT / "cluster" / "requirements-patroni.txt"
PATH = (f"/opt/venv/bin:/usr/lib/postgresql/{PG_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
        "/sbin:/bin")
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
KEEP = 3  # cached tarballs kept (several clones may need different recipes)


def apt_sources(etc: Path = Path("/etc/apt")) -> list[tuple[str, str, list[str]]]:
    """(URI, suite, components) of every enabled ``deb`` entry of this machine's apt sources."""
    entries = []
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            line = re.sub(r"\[[^\]]*\]", " ", line)  # [signed-by=...] options
            words = line.split()
            if len(words) >= 4 and words[0] == "deb":
                entries.append((words[1], words[2], words[3:]))
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            fields: dict[str, str] = {}
            key = None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0].isspace() and key:
                    fields[key] += " " + line.strip()
                elif ":" in line:
                    key, value = line.split(":", 1)
                    key = key.strip().lower()
                    fields[key] = value.strip()
            if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    entries.append((uri, suite, fields.get("components", "").split()))
    return entries


def mirror_sources() -> tuple[str, list[str]]:
    """The mirror debootstrap uses, and the image's own sources.list lines (bookworm, -updates, -security)."""
    entries = [(uri, suite, components) for uri, suite, components in apt_sources()
               if (suite == SUITE or suite.startswith(f"{SUITE}-")) and "main" in components]
    mirror = next((uri for uri, suite, _ in entries if suite == SUITE), None)
    if mirror is None:
        raise Unavailable(f"no Debian {SUITE} mirror with 'main' in this machine's apt sources (/etc/apt): "
                          "debootstrap has nowhere to fetch the base image from")
    return mirror, [f"deb {uri} {suite} main" for uri, suite, _ in entries]


def recipe_digest(sources: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (Path(__file__).read_bytes(), "\n".join(sources).encode(), " ".join(PACKAGES).encode(),
                 REQUIREMENTS.read_bytes(), PATRONI_REQUIREMENTS.read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path):
    """One builder at a time (another clone's run may build the same recipe)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(what: str, command: list[str], timeout: float, **kwargs) -> str:
    """Run one build step in a process group of its own: past ``timeout`` the whole group is killed
    (debootstrap's and apt's children too), and the step is reported with its last lines."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, start_new_session=True, **kwargs)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise Unavailable(f"base image: {what} did not finish within {timeout:.0f} s") from None
    if process.returncode:
        tail = (stdout + stderr).strip().splitlines()[-6:]
        raise Unavailable(f"base image: {what} failed (exit {process.returncode}): {' | '.join(tail)}")
    return stdout


def _chroot(root: Path, what: str, script: str, timeout: float) -> None:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
           "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_DEFAULT_TIMEOUT": "60", "PIP_NO_CACHE_DIR": "1"}
    _run(what, ["chroot", str(root), "/bin/sh", "-ec", script], timeout, env=env)


def build_rootfs(root: Path, mirror: str, sources: list[str], log=print) -> None:
    log(f"base image: debootstrap --variant=minbase {SUITE} from {mirror} ...")
    _run("debootstrap", ["debootstrap", "--variant=minbase", "--include=ca-certificates", SUITE, str(root), mirror],
         timeout=900)
    # No service starts inside the build root (a postinst would start redis, haproxy... on the host).
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    # As Debian's slim images: no manuals, translations or package docs (copyright files stay).
    (root / "etc/dpkg/dpkg.cfg.d/90nexus-slim").write_text(
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n"
        "path-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n")
    (root / "etc/apt/sources.list").write_text("\n".join(sources) + "\n")
    (root / "etc/apt/apt.conf.d/90nexus-base").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Retries "3";\n'
        # The machine's mirror may serve a fixed snapshot whose Release file has expired.
        'Acquire::Check-Valid-Until "false";\n')
    shutil.copy(REQUIREMENTS, root / "tmp/requirements.txt")
    (root / "opt/patroni").mkdir(parents=True, exist_ok=True)
    shutil.copy(PATRONI_REQUIREMENTS, root / "opt/patroni/requirements.txt")
    log("base image: Debian packages (python3, PostgreSQL, etcd, PgBouncer, Redis, HAProxy) ...")
    _chroot(root, "apt-get update", "apt-get update -qq", timeout=600)
    # As the official postgres image does: no "main" cluster made by the package (Patroni makes its own).
    _chroot(root, "apt-get install postgresql-common",
            "apt-get install -y -qq postgresql-common >/dev/null\n"
            "sed -ri 's/#?\\s*create_main_cluster\\s*=.*/create_main_cluster = false/' "
            "/etc/postgresql-common/createcluster.conf", timeout=600)
    _chroot(root, "apt-get install", f"apt-get install -y -qq {' '.join(PACKAGES)} >/dev/null", timeout=900)
    log("base image: /opt/venv (requirements.txt) and /opt/patroni (cluster/requirements-patroni.txt) from PyPI ...")
    # pip trusts what this machine's pip trusts (a proxy in front of the index may present its own
    # certificate authority): the host's bundle, for the build only.
    pip_env = ""
    host_bundle = Path(os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE") or HOST_CA_BUNDLE)
    if host_bundle.is_file():
        shutil.copy(host_bundle, root / "tmp/host-ca.crt")
        pip_env = "PIP_CERT=/tmp/host-ca.crt "
    _chroot(root, "pip install -r requirements.txt",
            f"python3 -m venv /opt/venv\n{pip_env}/opt/venv/bin/pip install -q -r /tmp/requirements.txt", timeout=900)
    _chroot(root, "pip install -r requirements-patroni.txt",
            f"python3 -m venv /opt/patroni\n{pip_env}/opt/patroni/bin/pip install -q -r /opt/patroni/requirements.txt",
            timeout=900)
    _chroot(root, "clean up", "apt-get clean\nrm -rf /var/lib/apt/lists/* /tmp/* /root/.cache", timeout=120)


def import_rootfs(daemon: Daemon, root: Path, tag: str) -> None:
    changes = [f"ENV PATH={PATH}", "ENV LANG=C.UTF-8", f"ENV PG_MAJOR={PG_MAJOR}", 'CMD ["bash"]']
    args = [arg for change in changes for arg in ("--change", change)]
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-cf", "-", "."], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:
        result = subprocess.run([str(DOCKER), "import", *args, "-", tag], stdin=tar.stdout,
                                capture_output=True, text=True, env=daemon.env, timeout=600, check=False)
    finally:
        tar.stdout.close()
        tar.wait(60)
    if result.returncode or tar.returncode:
        raise RuntimeError(f"docker import failed (exit {result.returncode}, tar {tar.returncode}): "
                           f"{result.stderr[-1000:]}")


def _prune(keep: Path) -> None:
    tarballs = sorted(CACHE.glob("base-*.tar"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in tarballs if p != keep][KEEP - 1:]:
        old.unlink(missing_ok=True)


def _sweep(log) -> None:
    """What a killed run left in the cache: a build directory, a half-written tarball."""
    for leftover in [*CACHE.glob("build-*"), *CACHE.glob("base-*.partial")]:
        if time.time() - leftover.stat().st_mtime > 3600:
            try:
                remove_tree(leftover) if leftover.is_dir() else leftover.unlink()
            except (OSError, RuntimeError) as exc:
                log(f"base image: cannot remove {leftover}: {exc}")


def ensure(daemon: Daemon, log=print) -> str:
    """``nexus-local/base`` in ``daemon``: loaded from the cache, or built (and cached). Returns its tag."""
    mirror, sources = mirror_sources()
    digest = recipe_digest(sources)
    tag = f"{IMAGE}:{digest}"
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        writable = os.access(CACHE, os.W_OK)
    except OSError:
        writable = False
    tarball = CACHE / f"base-{digest}.tar"
    lock = CACHE / "base.lock" if writable else Path(os.devnull)
    with _locked(lock):
        if writable:
            _sweep(log)
        if tarball.exists():
            started = time.monotonic()
            try:
                daemon.docker("load", "-q", "-i", str(tarball), timeout=600)
                os.utime(tarball)  # the newest used is the last pruned
                log(f"base image {tag}: loaded from {tarball} in {time.monotonic() - started:.1f} s")
            except RuntimeError as exc:  # a truncated or damaged file: built again
                log(f"base image {tag}: {tarball} does not load ({exc}); building it again")
                tarball.unlink(missing_ok=True)
        if not tarball.exists():
            started = time.monotonic()
            workdir = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE if writable else None))
            try:
                build_rootfs(workdir / "rootfs", mirror, sources, log)
                import_rootfs(daemon, workdir / "rootfs", tag)
            finally:
                try:
                    remove_tree(workdir)  # whatever a killed debootstrap left mounted in it first
                except RuntimeError as exc:
                    log(f"base image: {exc}")
            log(f"base image {tag}: built in {time.monotonic() - started:.0f} s")
            if writable:
                partial = tarball.with_suffix(".partial")
                daemon.docker("save", "-o", str(partial), tag, timeout=600)
                partial.rename(tarball)
                _prune(tarball)
                log(f"base image {tag}: saved to {tarball}")
    daemon.docker("tag", tag, f"{IMAGE}:latest")
    return tag
