"""A private Docker daemon for one test run: its own data root and unix socket, stopped by its pid.

Debian's ``docker.io`` (dockerd 20.10) started as root with overlay2 and no default bridge: the compose
project makes its own bridge network, on which containers reach each other by service name through
Docker's embedded DNS. The daemon leaves the host's firewall and forwarding alone (``--iptables=false``,
``--ip-forward=false``): nothing in a container needs the outside (the images are built offline from a
base made on the host), and published ports go through Docker's userland proxy on loopback. So another
daemon on the machine (another clone's run) is not disturbed, and neither is this one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from cluster.topology import alive

DOCKERD = Path("/usr/sbin/dockerd")
# Debian's client, matching the daemon; another docker on PATH (a newer CLI) is not used.
DOCKER = Path("/usr/bin/docker")
COMPOSE = Path("/usr/bin/docker-compose")
STATE = Path(os.environ.get("NEXUS_COMPOSE_STATE", "/var/lib/nexus-compose"))
RUN = Path("/run/nexus-compose")


class Unavailable(RuntimeError):
    """Docker cannot run here (not installed, not root, the daemon would not start): the tests skip, saying why."""


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[4] for line in lines]
    return sorted((p for p in points if p.startswith(prefix) or p == str(path)), key=len, reverse=True)


def remove_tree(path: Path) -> None:
    """Remove a daemon's directory: whatever is still mounted under it first (a daemon that was killed)."""
    for point in _mounts_under(path):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        raise RuntimeError(f"could not remove {path}")


def sweep_stale() -> None:
    """Directories of earlier runs whose daemon is gone (a run that was killed): removed."""
    for base in (STATE, RUN):
        if not base.is_dir():
            continue
        for directory in base.iterdir():
            if not directory.name.startswith("run-") or not directory.is_dir():
                continue
            pidfile = RUN / directory.name / "dockerd.pid"
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                pid = 0
            if pid and alive(pid):
                continue
            if time.time() - directory.stat().st_mtime < 120 and not pid:
                continue  # being set up right now by another run
            remove_tree(directory)
    for log in (STATE / "logs").glob("run-*.log") if (STATE / "logs").is_dir() else ():
        if time.time() - log.stat().st_mtime > 7 * 86400:
            log.unlink(missing_ok=True)


class Daemon:
    """dockerd started by this process, with everything of its own under ``data_root`` and ``exec_root``."""

    def __init__(self, name: str):
        self.name = name
        self.data_root = STATE / name
        self.run_dir = RUN / name
        self.exec_root = self.run_dir / "exec"
        self.socket = self.run_dir / "docker.sock"
        self.pidfile = self.run_dir / "dockerd.pid"
        self.log = STATE / "logs" / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def env(self) -> dict[str, str]:
        """The environment of a docker or docker-compose client of this daemon (and of no other)."""
        path = os.pathsep.join(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        return {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
                "DOCKER_HOST": f"unix://{self.socket}",
                # docker-compose v1 builds through the daemon's API (the classic builder), not a CLI plugin.
                "DOCKER_BUILDKIT": "0", "COMPOSE_DOCKER_CLI_BUILD": "0"}

    @classmethod
    def start(cls, name: str | None = None, timeout: float = 60) -> Daemon:
        for binary in (DOCKERD, DOCKER, COMPOSE):
            if not binary.exists():
                raise Unavailable(f"{binary} is missing (Debian's docker.io and docker-compose; scripts/test.py "
                                  "installs them with apt-get as root)")
        if os.geteuid() != 0:
            raise Unavailable("not root: a private dockerd needs root")
        daemon = cls(name or f"run-{os.getpid()}")
        try:
            (STATE / "logs").mkdir(parents=True, exist_ok=True)
            RUN.mkdir(parents=True, exist_ok=True)
            sweep_stale()
            for directory in (daemon.data_root, daemon.run_dir):
                if directory.exists():
                    remove_tree(directory)
                directory.mkdir(parents=True)
        except (OSError, RuntimeError) as exc:
            raise Unavailable(f"cannot prepare the daemon's directories under {STATE} and {RUN}: {exc}") from None
        command = [str(DOCKERD), "--data-root", str(daemon.data_root), "--exec-root", str(daemon.exec_root),
                   "--host", f"unix://{daemon.socket}", "--pidfile", str(daemon.pidfile),
                   "--storage-driver", "overlay2", "--bridge", "none", "--iptables=false", "--ip-masq=false",
                   "--ip-forward=false", "--log-level", "warn"]
        try:
            with open(daemon.log, "wb") as log:
                daemon.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise Unavailable(f"cannot start {DOCKERD}: {exc}") from None
        try:
            daemon._wait_ready(timeout)
        except Unavailable:
            daemon.stop()
            raise
        return daemon

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Unavailable(f"dockerd exited with {self.process.returncode} at start: {self.log_tail()}")
            if self.socket.exists():
                result = self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=10)
                if result.returncode == 0:
                    return
            time.sleep(0.2)
        raise Unavailable(f"dockerd did not answer within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def docker(self, *args: str, check: bool = True, timeout: float = 120,
               input: str | None = None) -> subprocess.CompletedProcess:
        """The docker client of this daemon; a failure (when ``check``) is an error with its message."""
        result = subprocess.run([str(DOCKER), *args], env=self.env, capture_output=True, text=True, input=input,
                                timeout=timeout, check=False)
        if check and result.returncode:
            raise RuntimeError(f"docker {' '.join(args[:4])} failed (exit {result.returncode}): "
                               f"{(result.stderr or '')[-2000:]}")
        return result

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to dockerd by its pid (it stops what still runs, and its containerd), then remove its directories."""
        bridges = []
        if self.process is not None and self.process.poll() is None:
            # The bridges of networks still defined (a run that failed before `down`) outlive the daemon.
            listed = self.docker("network", "ls", "-q", "--filter", "driver=bridge", check=False, timeout=20)
            bridges = [f"br-{network[:12]}" for network in (listed.stdout or "").split()]
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        # A daemon killed mid-way leaves its container shims (and their containers) behind: end them by pid.
        for line in self.leftovers():
            pid = int(line.split(":", 1)[0])
            for child in _children(pid):
                _kill(child)
            _kill(pid)
        for bridge in bridges:
            if Path(f"/sys/class/net/{bridge}").exists():
                subprocess.run(["ip", "link", "delete", bridge], capture_output=True, check=False)
        for directory in (self.data_root, self.run_dir):
            remove_tree(directory)

    def leftovers(self) -> list[str]:
        """Processes of this daemon still alive (dockerd, its containerd, container shims), as command lines."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(self.run_dir) in command or str(self.data_root) in command:
                found.append(f"{proc.name}: {command[:200]}")
        return found
