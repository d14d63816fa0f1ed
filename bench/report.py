"""Aggregate recorders into per-scenario results, judge the targets, print tables."""

from __future__ import annotations

from collections import Counter

from .load import Recorder, latency_summary

# The targets on the 2-core reference machine at 32 clients.
TARGETS = {
    "transfers": {"min_ok_per_s": 300, "max_p95_ms": 100},
    "hotpair": {"min_ok_per_s": 150, "max_5xx": 0, "max_deadlocks": 0},
    "reads": {"min_ok_per_s": 600, "max_p95_ms": 50},
}


def aggregate(recorders: list[Recorder], seconds: float) -> dict:
    latencies: dict[str, list[float]] = {}
    statuses: Counter = Counter()
    errors: Counter = Counter()
    outcomes: Counter = Counter()
    for rec in recorders:
        for label, values in rec.latencies.items():
            latencies.setdefault(label, []).extend(values)
        statuses.update(rec.statuses)
        errors.update(rec.errors)
        outcomes.update(rec.outcomes)
    labels = sorted({label for label, _ in outcomes})
    by_label = {}
    for label in labels:
        ok = outcomes[(label, "ok")]
        by_label[label] = {
            "ok": ok,
            "refused": outcomes[(label, "refused")],
            "errors": outcomes[(label, "error")],
            "ok_per_s": round(ok / seconds, 1) if seconds else 0.0,
            "latency": latency_summary(latencies.get(label, [])),
            "statuses": {str(s): n for (lb, s), n in sorted(statuses.items()) if lb == label},
        }
    ok = sum(v for (_, kind), v in outcomes.items() if kind == "ok")
    total = sum(outcomes.values())
    per_second: Counter = Counter()
    for rec in recorders:
        per_second.update(rec.per_second)
    status_totals: Counter = Counter()
    for (_, status), n in statuses.items():
        status_totals[str(status)] += n
    return {
        "seconds": round(seconds, 3),
        "requests": total,
        "ok": ok,
        "refused": sum(v for (_, kind), v in outcomes.items() if kind == "refused"),
        "errors": sum(v for (_, kind), v in outcomes.items() if kind == "error"),
        "responses_5xx": sum(n for s, n in status_totals.items() if s.startswith("5")),
        "ok_per_s": round(ok / seconds, 1) if seconds else 0.0,
        "requests_per_s": round(total / seconds, 1) if seconds else 0.0,
        "latency": latency_summary([v for values in latencies.values() for v in values]),
        "statuses": dict(sorted(status_totals.items())),
        "transport_errors": {f"{label}:{name}": n for (label, name), n in sorted(errors.items())},
        "by_label": by_label,
        "warmup_requests": sum(r.warmup for r in recorders),
        "ok_per_second": [per_second[i] for i in range(int(seconds))],
    }


def judge(name: str, result: dict) -> list[dict]:
    """Target verdicts for one scenario (informational unless --strict)."""
    verdicts = []
    target = TARGETS.get(name, {})
    if "min_ok_per_s" in target:
        verdicts.append({"what": f"{name} >= {target['min_ok_per_s']} ok/s", "measured": result["ok_per_s"],
                         "met": result["ok_per_s"] >= target["min_ok_per_s"]})
    if "max_p95_ms" in target:
        p95 = result["latency"]["p95_ms"]
        verdicts.append({"what": f"{name} p95 <= {target['max_p95_ms']} ms", "measured": p95,
                         "met": p95 is not None and p95 <= target["max_p95_ms"]})
    if "max_5xx" in target:
        verdicts.append({"what": f"{name} zero 5xx", "measured": result["responses_5xx"],
                         "met": result["responses_5xx"] == 0})
    if "max_deadlocks" in target:
        deadlocks = result["db"]["deadlocks"]
        verdicts.append({"what": f"{name} zero deadlocks", "measured": deadlocks, "met": deadlocks == 0})
    verdicts.append({"what": f"{name} zero errors (refusals asked for excepted)", "measured": result["errors"],
                     "met": result["errors"] == 0})
    return verdicts


def _fmt(value, width: int, places: int = 1) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:.{places}f}".rjust(width)
    return str(value).rjust(width)


COLUMNS = [
    ("scenario", 10), ("ok/s", 8), ("req/s", 8), ("p50ms", 7), ("p95ms", 7), ("p99ms", 7), ("maxms", 8),
    ("ok", 7), ("refus", 6), ("err", 5), ("5xx", 5), ("dlock", 5), ("q/req", 6), ("sqlms", 6),
    ("gunic%", 7), ("work%", 6), ("pg%", 6), ("load%", 6), ("other%", 6), ("busy%", 6), ("calib", 6),
]


def table(results: dict[str, dict]) -> str:
    lines = ["  ".join(name.rjust(width) if i else name.ljust(width) for i, (name, width) in enumerate(COLUMNS))]
    for name, r in results.items():
        lat, db, cpu = r["latency"], r["db"], r["cpu"]
        row = [
            name.ljust(10), _fmt(r["ok_per_s"], 8), _fmt(r["requests_per_s"], 8), _fmt(lat["p50_ms"], 7),
            _fmt(lat["p95_ms"], 7), _fmt(lat["p99_ms"], 7), _fmt(lat["max_ms"], 8), _fmt(r["ok"], 7),
            _fmt(r["refused"], 6), _fmt(r["errors"], 5), _fmt(r["responses_5xx"], 5), _fmt(db["deadlocks"], 5),
            _fmt(db["queries_per_request"], 6), _fmt(db["sql_ms_per_request"], 6, 2),
            _fmt(cpu["gunicorn_pct"], 7, 0), _fmt(cpu.get("worker_pct"), 6, 0), _fmt(cpu["postgres_pct"], 6, 0), _fmt(cpu["loadgen_pct"], 6, 0),
            _fmt(cpu["other_pct"], 6, 0), _fmt(cpu["system_busy_pct"], 6, 0), _fmt(r.get("calibration_ms"), 6),
        ]
        lines.append("  ".join(row))
    return "\n".join(lines)


def label_table(result: dict) -> str:
    lines = [f"    {'request':<10} {'ok/s':>7} {'p50ms':>7} {'p95ms':>7} {'p99ms':>7} {'maxms':>8} {'ok':>6} "
             f"{'refus':>6} {'err':>5}  statuses"]
    for label, r in result["by_label"].items():
        lat = r["latency"]
        lines.append(
            f"    {label:<10} {_fmt(r['ok_per_s'], 7)} {_fmt(lat['p50_ms'], 7)} {_fmt(lat['p95_ms'], 7)} "
            f"{_fmt(lat['p99_ms'], 7)} {_fmt(lat['max_ms'], 8)} {_fmt(r['ok'], 6)} {_fmt(r['refused'], 6)} "
            f"{_fmt(r['errors'], 5)}  {r['statuses']}"
        )
    return "\n".join(lines)
