"""``scripts/cluster.py load``: the benchmark's load generator (bench/) through HAProxy, with CPU accounting.

Seeds a fresh cohort straight on the primary (bench.seed), mints tokens, drives one bench scenario
with C closed-loop clients through HAProxy, and reports throughput, latency and the CPU that each
tier spent per successful request: app nodes (gunicorn), PostgreSQL primary and standby, PgBouncer,
HAProxy. On a 2-core machine everything shares the same two cores: the CPU per request is the
figure that carries over to bigger machines, not the throughput.
"""

from __future__ import annotations

import json
import os
import random
import time

import psutil

from .topology import Cluster, wait_for


def _tree(pid: int | None) -> list[psutil.Process]:
    if not pid:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def tiers(cluster: Cluster) -> dict[str, list[psutil.Process]]:
    primary = cluster.primary()
    groups = {"app": [p for node in cluster.app_nodes for p in _tree(cluster.pid(node["name"]))]}
    for node in cluster.pg_nodes:
        role = "pg_primary" if node["name"] == primary else "pg_standby"
        groups[role] = _tree(cluster.postmaster_pid(node["name"]))
    for name in ("pgbouncer", "haproxy"):
        groups[name] = _tree(cluster.pid(name))
    return groups


def set_synchronous(cluster: Cluster, on: bool) -> None:
    import urllib.request

    api = cluster.pg_nodes[0]["api"] if cluster.role(cluster.pg_nodes[0]["name"]) else cluster.pg_nodes[1]["api"]
    body = json.dumps({"synchronous_mode": on}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{api}/config", data=body, method="PATCH",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()  # noqa: S310
    if on:
        wait_for(lambda: cluster.sync_standby() is not None, 60, "the standby to be synchronous again")
    else:
        wait_for(lambda: cluster.sync_standby() is None, 60, "the standby to be asynchronous")


def run(cluster: Cluster, args) -> dict:
    os.environ.update(cluster.app_env(database_url=cluster.direct_url()))
    os.environ["DATABASE_TRANSACTION_POOLING"] = "false"
    import django

    django.setup()
    from bench import load, report, scenarios, seed

    cohort = seed.seed(customers=args.customers, baseline=0)
    seed.mint_tokens(cohort)
    if args.scenario == "transfers":
        next_request = scenarios.transfers(cohort, args.clients)
    elif args.scenario == "reads":
        next_request = scenarios.reads(cohort, args.clients)
    else:
        from api.models import Biller

        billers = list(Biller.objects.filter(is_active=True).values_list("pk", "currency"))
        next_request = scenarios.mix(cohort, args.clients, billers)
    if args.async_replication:
        set_synchronous(cluster, False)
    try:
        # Read at the start of the measured window: PgBouncer and the app open their database sessions
        # during the warm-up, and a backend missing from the list would hide its CPU.
        groups: dict[str, list[psutil.Process]] = {}
        before: dict[str, float] = {}
        runner = load.Runner(port=cluster.ports["http"], concurrency=args.clients, duration=args.seconds,
                             warmup=args.warmup, max_requests=10**9, timeout=60, next_request=next_request,
                             rng_factory=lambda i: random.Random(1000 + i))  # noqa: S311

        def snapshot():
            groups.update(tiers(cluster))
            before.update({name: _cpu(processes) for name, processes in groups.items()})
            before["_wall"] = time.perf_counter()

        seconds = runner.run(on_window_start=snapshot)
        after = {name: _cpu(processes) for name, processes in groups.items()}
    finally:
        if args.async_replication:
            set_synchronous(cluster, True)
    result = report.aggregate(runner.recorders, seconds)
    ok = max(result["ok"], 1)
    result["cpu_ms_per_ok"] = {name: round((after[name] - before[name]) * 1000 / ok, 3) for name in groups}
    result["cpu_cores_busy"] = {name: round((after[name] - before[name]) / seconds, 2) for name in groups}
    result["config"] = {"scenario": args.scenario, "clients": args.clients, "app_nodes": len(cluster.app_nodes),
                        "workers_per_node": cluster.state["workers"], "pgbouncer": cluster.state["pgbouncer"],
                        "replication": "asynchronous" if args.async_replication else "synchronous",
                        "cores": os.cpu_count()}
    latency = result["latency"]
    print(f"{args.scenario}: {result['ok_per_s']} ok/s, p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms, "
          f"p99 {latency['p99_ms']} ms; statuses {result['statuses']}; errors {result['errors']}")
    print("CPU ms per ok request: " + ", ".join(f"{k} {v}" for k, v in result["cpu_ms_per_ok"].items()))
    print("cores busy: " + ", ".join(f"{k} {v}" for k, v in result["cpu_cores_busy"].items()))
    print(f"config: {result['config']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result
