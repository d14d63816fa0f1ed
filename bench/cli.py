"""``python -m bench``: seed, start gunicorn, drive the scenarios, run the SQL baseline, check invariants.

Exit status: 0 when every invariant holds, 1 when one fails (or, with ``--strict``, when a target
is missed), 2 when the benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import env

SCENARIOS = ("transfers", "hotpair", "reads", "mix")
# A scenario during which processes other than ours used more than this share of a core is flagged.
DISTURBED_PCT = 15.0
LIMITS = {"concurrency": 256, "duration": 600.0, "warmup": 60.0, "customers": 20000, "max_requests": 2_000_000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from .server import default_workers

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s per scenario, small cohort")
    parser.add_argument("--workers", type=int, default=default_workers(), help="gunicorn sync workers (default cores+1)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--concurrency", "-c", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=float, help="measured seconds per scenario (default 30, quick 3)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each scenario (default 3, quick 0.5)")
    parser.add_argument("--max-requests", type=int, help="request cap per scenario (default 500000, quick 20000)")
    parser.add_argument("--customers", type=int, help="customers for the HTTP scenarios (default 1000, quick 128)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma list of {', '.join(SCENARIOS)}")
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw-PostgreSQL baseline")
    parser.add_argument("--open-loop", default="0.5,0.8", metavar="FRACTIONS",
                        help="after the closed-loop transfers, transfers at a fixed arrival rate of these fractions "
                             "of its capacity, latency counted from each request's due time (empty: none)")
    parser.add_argument("--open-loop-rates", default="", metavar="RATES",
                        help="fixed arrival rates per second instead of fractions (an A/B at the same load)")
    parser.add_argument("--open-loop-clients", type=int, default=96, help="clients available to the open loop")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request client timeout, seconds")
    parser.add_argument("--json", type=Path, help="also write the JSON result here (always: bench/results/)")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep earlier runs' data (default: recreate the embedded nexus_bench database)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed, too")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="first wait up to S seconds for the machine to be idle (< 10%% CPU over 2 s)")
    parser.add_argument("--seed", type=int, default=20260101, help="random seed for the request streams")
    parser.add_argument("--server", default="gunicorn", choices=["gunicorn", "granian"],
                        help="the HTTP server (granian: an experiment, see bench/README.md)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the gunicorn workers and the job worker with py-spy during each scenario and print "
                             "the CPU per request by stage (bench/profile.py); throughput is lower while it samples")
    parser.add_argument("--what-if", default="", help="comma list of experimental patches (bench/whatif.py): "
                        "no-health-check, stateless-user, no-count, quiet-log; NOT the app as shipped")
    args = parser.parse_args(argv)
    args.duration = args.duration if args.duration is not None else (3.0 if args.quick else 30.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 3.0)
    args.max_requests = args.max_requests or (20_000 if args.quick else 500_000)
    args.customers = args.customers or (128 if args.quick else 1000)
    args.customers = max(args.customers, 2 * max(args.concurrency, args.open_loop_clients))
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    from .whatif import SWITCHES

    args.what_if = [s.strip() for s in args.what_if.split(",") if s.strip()]
    if set(args.what_if) - set(SWITCHES):
        parser.error(f"unknown --what-if switches: {sorted(set(args.what_if) - set(SWITCHES))}")
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {sorted(unknown)}")
    for name, limit in LIMITS.items():
        if getattr(args, name) > limit:
            parser.error(f"--{name.replace('_', '-')} is capped at {limit}")
    if min(args.concurrency, args.workers, args.threads) < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("workers, threads and concurrency must be >= 1; duration > 0; warmup >= 0")
    return args


def machine() -> dict:
    import psutil

    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(), "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()], "calibration_ms": calibration_ms()}


def calibration_ms() -> float:
    """Milliseconds to compile 200 Django querysets to SQL (best of 5; no database): a machine-speed
    reading for comparing runs. Shared virtual CPUs vary by tens of percent from one minute to the
    next, and a tight arithmetic loop misses most of it (cache and memory contention hit Django's
    pointer-chasing code far more), hence a workload shaped like the app's."""
    from api.models import Account

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for i in range(200):
            str(Account.objects.filter(owner_id=None, role="customer", balance__gte=i).order_by("created_at").query)
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def wait_quiet(limit: float) -> float:
    """Wait (at most ``limit`` seconds) until the machine's CPU is < 10 % busy over 2 s; return the wait."""
    import psutil

    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if psutil.cpu_percent(interval=2.0) < 10.0:
            break
    return time.perf_counter() - started


def pg_info() -> dict:
    from django.db import connection

    names = ["server_version", "shared_buffers", "work_mem", "max_connections", "synchronous_commit", "fsync",
             "wal_buffers", "max_wal_size", "checkpoint_timeout", "random_page_cost", "shared_preload_libraries"]
    info = {}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"SHOW {name}")
            info[name] = cursor.fetchone()[0]
    info["database"] = connection.settings_dict["NAME"]
    info["embedded"] = not os.environ.get("DATABASE_URL")
    return info


def pg_db_stats() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit, xact_rollback, deadlocks, tup_inserted, tup_updated, tup_fetched, "
                       "blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    keys = ["xact_commit", "xact_rollback", "deadlocks", "tup_inserted", "tup_updated", "tup_fetched",
            "blks_read", "blks_hit"]
    return dict(zip(keys, row, strict=True))


class Probe:
    """CPU, SQL counters and PostgreSQL stats between the start and the end of a measured window."""

    def __init__(self, server, database: str):
        import psutil

        from .server import CpuMeter, PostgresProcesses

        self.server = server
        self.me = psutil.Process()
        self.gunicorn = CpuMeter(server.processes if server else list)
        self.worker = CpuMeter(server.worker_processes if server else list)
        self.postgres = CpuMeter(PostgresProcesses(database))

    def begin(self) -> None:
        import psutil

        from . import counters

        self.t0 = time.perf_counter()
        self.wall_start = time.time()
        self.system0 = psutil.cpu_times()
        self.me0 = sum(self.me.cpu_times()[:2])
        self.gunicorn.begin()
        self.worker.begin()
        self.postgres.begin()
        self.counters0 = counters.read_totals(self.server.counters_path) if self.server else None

    def end(self) -> dict:
        import psutil

        from . import counters

        seconds = time.perf_counter() - self.t0
        system1 = psutil.cpu_times()
        me = sum(self.me.cpu_times()[:2]) - self.me0
        gunicorn = self.gunicorn.end()
        worker = self.worker.end()
        postgres = self.postgres.end()
        busy = (sum(system1) - system1.idle - getattr(system1, "iowait", 0)) - (
            sum(self.system0) - self.system0.idle - getattr(self.system0, "iowait", 0))
        cores = os.cpu_count() or 1

        def pct(cpu: float) -> float:
            return round(100 * cpu / seconds, 1) if seconds else 0.0

        cpu = {
            "note": "percent of one core; 100 % x cores = machine saturated",
            "gunicorn_pct": pct(gunicorn), "worker_pct": pct(worker), "postgres_pct": pct(postgres),
            "loadgen_pct": pct(me), "system_busy_pct": pct(busy),
            "other_pct": pct(max(0.0, busy - gunicorn - worker - postgres - me)),
            # CPU-seconds of every process that serves the requests (web, job worker, PostgreSQL)
            "serving_cpu_s": round(gunicorn + worker + postgres, 3),
            "cores": cores, "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        db = {}
        if self.server:
            delta = counters.read_totals(self.server.counters_path) - self.counters0

            def per(value: float) -> float | None:
                return round(value / delta.requests, 2) if delta.requests else None

            db = {
                "server_requests": delta.requests,
                "queries_per_request": per(delta.queries),
                "sql_ms_per_request": per(delta.query_ns / 1e6),
                "app_ms_per_request": per(delta.request_ns / 1e6),
                "deadlocks": delta.deadlocks,
                "serialization_failures": delta.serialization_failures,
                "lock_timeouts": delta.lock_timeouts,
                "other_db_errors": delta.other_db_errors,
            }
        return {"cpu": cpu, "db": db}


def reaction_lag(*, since: float) -> dict:
    """From each transfer's commit to its reactions (v1.3: the job worker's): the notification's creation
    minus the transaction's, for the window's transfers, once the queue has drained (waits up to 30 s)."""
    import datetime as dt

    from django.db import connection

    from nexus.models import Job

    deadline = time.monotonic() + 30
    while Job.objects.filter(failed_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM n.created_at - t.created_at)),"
            " count(*) FROM api_transaction t JOIN api_notification n ON n.data->>'transaction_id' = t.id::text"
            " AND n.kind = 'transfer_out' WHERE t.created_at >= %s", [dt.datetime.fromtimestamp(since, tz=dt.UTC)])
        quantiles, count = cursor.fetchone()
    connection.close()
    p50, p99 = quantiles or (None, None)
    return {"p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
            "p99_ms": round(p99 * 1000, 1) if p99 is not None else None, "transfers": count}


def run_http_scenario(name: str, next_request, args, server, cohort, database: str,
                      rate: float | None = None) -> tuple[dict, list]:
    from .load import Runner
    from .report import aggregate
    from .seed import mint_tokens

    mint_tokens(cohort)  # tokens live 15 minutes: fresh ones for every scenario
    calibration = calibration_ms()
    probe = Probe(server, database)
    recorders_spy = []

    def window_start():
        if args.profile:
            from . import profile

            recorders_spy.append(profile.Recorder(server.process.pid, env.RESULTS / f"spy-{name}-web.txt",
                                                  subprocesses=True))
        probe.begin()

    runner = Runner(port=server.port, concurrency=args.open_loop_clients if rate else args.concurrency,
                    duration=args.duration, warmup=args.warmup, max_requests=args.max_requests, timeout=args.timeout,
                    next_request=next_request, rng_factory=lambda i: random.Random(f"{args.seed}:{name}:{i}"),
                    rate=rate)
    seconds = runner.run(on_window_start=window_start)
    measured = probe.end()
    result = aggregate(runner.recorders, seconds)
    result.update(measured)
    if recorders_spy:
        from . import profile

        web = profile.read_samples(recorders_spy[0].stop())
        result["profile"] = profile.table(web, 0, requests=measured["db"]["server_requests"], cpu=measured["cpu"],
                                          seconds=seconds)
        print(profile.render(name, result["profile"]), flush=True)
    result["reactions"] = reaction_lag(since=probe.wall_start)
    if rate:
        result["arrival_rate_per_s"] = round(rate, 1)
    result["calibration_ms"] = calibration
    return result, runner.recorders


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env.prepare()
    env.RESULTS.mkdir(parents=True, exist_ok=True)
    print("Nexus Bank benchmark" + (" (quick)" if args.quick else ""), flush=True)
    env.setup_django()
    if args.profile:
        from . import profile

        missing = profile.available()
        if missing:
            print(f"--profile: {missing}", file=sys.stderr)
            return 2

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from . import baseline, invariants, report, scenarios, whatif
    from .seed import seed
    from .server import Granian, Gunicorn, free_port

    database = connection.settings_dict["NAME"]
    if not args.keep_data and env.reset_database():
        print(f"recreated database {database} (--keep-data to keep earlier runs)", flush=True)
    if args.wait_quiet:
        print(f"waited {wait_quiet(min(args.wait_quiet, 3600)):.0f} s for a quiet machine", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    info = {"machine": machine(), "postgres": pg_info()}
    since = timezone.now()
    money_before = invariants.money_snapshot()
    stats_before = pg_db_stats()
    cohort = seed(customers=args.customers, baseline=max(2, 4 * args.concurrency) if not args.no_baseline else 0)
    print(f"machine: {info['machine']['cores']} cores {info['machine']['cpu']}, calibration "
          f"{info['machine']['calibration_ms']} ms (lower is faster)", flush=True)
    print(f"seeded {len(cohort.everyone)} customers, {3 * len(cohort.everyone)} funded accounts "
          f"in {cohort.seconds:.1f} s (run {cohort.run_id}, database {database})", flush=True)
    # Planner statistics for the rows just loaded. Autovacuum would get there on a long-running
    # server; the embedded one stops whenever its last client exits and rarely does, and on stale
    # statistics the daily-limit query scans every transfer of the day (bench/README.md).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    from api.models import Biller
    from api.services.house import house_account_number

    billers = list(Biller.objects.filter(is_active=True).values_list("id", "currency"))
    factories = {
        "transfers": lambda: scenarios.transfers(cohort, args.concurrency),
        "hotpair": lambda: scenarios.hotpair(cohort, args.concurrency),
        "reads": lambda: scenarios.reads(cohort, args.concurrency),
        "mix": lambda: scenarios.mix(cohort, args.concurrency, billers),
    }
    server = (Granian if args.server == "granian" else Gunicorn)(port=free_port(), workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                      log_path=env.RESULTS / f"gunicorn-{cohort.run_id}.log",
                      counters_path=env.RESULTS / f"counters-{cohort.run_id}.bin",
                      extra_env=whatif.env_for(args.what_if))
    results: dict[str, dict] = {}
    movements, unknown_keys, refusals = [], [], 0
    connection.close()  # the driver's connection is not needed while gunicorn works
    try:
        boot = server.start()
        if args.what_if:
            print(f"WHAT-IF patches on (not the app as shipped): {', '.join(args.what_if)}", flush=True)
        print(f"gunicorn: {args.workers} {args.worker_class} workers x {args.threads} threads on "
              f"127.0.0.1:{server.port}, healthy in {boot:.1f} s; {args.concurrency} clients, "
              f"{args.duration:g} s per scenario after {args.warmup:g} s warm-up", flush=True)
        for name in args.scenarios:
            result, recorders = run_http_scenario(name, factories[name](), args, server, cohort, database)
            results[name] = result
            for rec in recorders:
                movements.extend(rec.movements)
                unknown_keys.extend(rec.unknown_keys)
                refusals += rec.money_refusals
            print(f"  {name:<10} {result['ok_per_s']:>8.1f} ok/s  p95 {result['latency']['p95_ms']} ms  "
                  f"errors {result['errors']}  reactions p50/p99 {result['reactions']['p50_ms']}/"
                  f"{result['reactions']['p99_ms']} ms", flush=True)
        fractions = [float(f) for f in args.open_loop.split(",") if f.strip()]
        rates = [float(r) for r in args.open_loop_rates.split(",") if r.strip()]
        loops = ([(f"open{round(rate)}/s", rate) for rate in rates] if rates else
                 [(f"open{round(fraction * 100)}", results["transfers"]["ok_per_s"] * fraction)
                  for fraction in fractions] if "transfers" in results else [])
        for name, rate in loops:
            # its own disjoint pairs per open-loop client (it has more clients than the closed loop)
            result, recorders = run_http_scenario(name, scenarios.transfers(cohort, args.open_loop_clients), args,
                                                  server, cohort, database, rate=rate)
            results[name] = result
            for rec in recorders:
                movements.extend(rec.movements)
                unknown_keys.extend(rec.unknown_keys)
                refusals += rec.money_refusals
            lat = result["latency"]
            print(f"  {name:<10} {result['ok_per_s']:>8.1f} ok/s at {result['arrival_rate_per_s']}/s due: "
                  f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms (from the due time)  errors {result['errors']}  "
                  f"reactions p50/p99 {result['reactions']['p50_ms']}/{result['reactions']['p99_ms']} ms",
                  flush=True)
    finally:
        server.stop()
        server.counters_path.unlink(missing_ok=True)

    base = None
    if not args.no_baseline:
        probe = Probe(None, database)
        calibration = calibration_ms()
        base = baseline.run(cohort=cohort, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup,
                            max_requests=args.max_requests, fee_account=house_account_number("fees", "JOD"),
                            settings=connection.settings_dict, on_window_start=probe.begin)
        base.update(probe.end())
        base["calibration_ms"] = calibration
        if "transfers" in results and base["ops_per_s"]:
            base["api_fraction"] = round(results["transfers"]["ok_per_s"] / base["ops_per_s"], 3)
        print(f"  {'raw SQL':<10} {base['ops_per_s']:>8.1f} ok/s  p95 {base['latency']['p95_ms']} ms  "
              f"errors {sum(base['errors'].values())}", flush=True)

    from nexus import jobs

    drained = jobs.drain_all()  # what the stopped worker had not reached yet (its reactions are checked too)
    print(f"job queue after the run: {drained} job(s) left, now carried out", flush=True)
    checks = invariants.run_all(cohort=cohort, before=money_before, since=since, movements=movements,
                                unknown_keys=unknown_keys, refusals=refusals)
    stats_after = pg_db_stats()
    verdicts = [v for name, r in results.items() for v in report.judge(name, r)]
    out = {
        "run_id": cohort.run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "settings": {"workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
                     "concurrency": args.concurrency, "duration_s": args.duration, "warmup_s": args.warmup,
                     "max_requests": args.max_requests, "customers": len(cohort.customers),
                     "throttles": env.THROTTLES, "mix_weights": scenarios.MIX, "what_if": args.what_if},
        **info,
        "scenarios": results,
        "baseline": base,
        "pg_stat_database_delta": {k: stats_after[k] - stats_before[k] for k in stats_after},
        "targets": verdicts,
        "invariants": [c.as_dict() for c in checks],
        "seconds_total": round(time.perf_counter() - started, 1),
    }

    print()
    if args.what_if:
        print(f"WHAT-IF: {', '.join(args.what_if)} (experimental patches, not the app as shipped)")
    print(report.table(results))
    for name, result in results.items():
        if len(result["by_label"]) > 1:
            print(f"\n  {name} by request:")
            print(report.label_table(result))
    if base:
        fraction = base.get("api_fraction")
        print(f"\nraw PostgreSQL transfer ({args.concurrency} psycopg connections): {base['ops_per_s']:.1f}/s, "
              f"p95 {base['latency']['p95_ms']} ms, postgres {base['cpu']['postgres_pct']:.0f}% "
              f"client {base['cpu']['loadgen_pct']:.0f}%"
              + (f"; API external transfers = {100 * fraction:.1f}% of it" if fraction is not None else ""))
    disturbed = {name: r["cpu"]["other_pct"] for name, r in results.items() if r["cpu"]["other_pct"] > DISTURBED_PCT}
    if base and base["cpu"]["other_pct"] > DISTURBED_PCT:
        disturbed["raw SQL"] = base["cpu"]["other_pct"]
    out["disturbed"] = disturbed
    if disturbed:
        print(f"\nWARNING: other processes used the CPU during {', '.join(f'{k} ({v:.0f}% of a core)' for k, v in disturbed.items())}:"
              " those figures understate this stack; run again on a quiet machine.")
    print("\ntargets:")
    for v in verdicts:
        print(f"  [{'met ' if v['met'] else 'MISS'}] {v['what']}: {v['measured']}")
    print("\ninvariants:")
    for check in checks:
        mark = "skip" if check.ok is None else ("ok  " if check.ok else "FAIL")
        print(f"  [{mark}] {check.name}: {check.detail}")
    path = env.RESULTS / f"bench-{cohort.run_id}.json"
    text = json.dumps(out, indent=2, default=str)
    path.write_text(text)
    if args.json:
        args.json.write_text(text)
    print(f"\nJSON: {path}  ({out['seconds_total']} s in all)")

    failed = [c.name for c in checks if c.ok is False]
    if failed:
        print(f"invariants failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if args.strict and not all(v["met"] for v in verdicts):
        return 1
    return 0
