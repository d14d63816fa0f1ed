"""gunicorn hooks used by the benchmark: count requests and SQL statements per worker.

Loaded with ``gunicorn -c bench/gunicorn_conf.py``; everything else (workers, bind, worker
class) comes from the command line. The counters cost one Python call per SQL statement and one
``struct.pack_into`` per request. Without ``BENCH_COUNTERS`` in the environment the hooks do
nothing, so this file is harmless outside the benchmark.
"""

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import counters  # noqa: E402
from nexus import limits  # noqa: E402

# The production request limits (gunicorn.conf.py): gunicorn reads only one config file.
limit_request_line = limits.GUNICORN_LIMIT_REQUEST_LINE
limit_request_field_size = limits.GUNICORN_LIMIT_REQUEST_FIELD_SIZE
limit_request_fields = limits.GUNICORN_LIMIT_REQUEST_FIELDS

_state = {"map": None, "slot": 0, "values": None, "lock": threading.Lock()}
_local = threading.local()
_RETRYABLE = {"40P01": "deadlocks", "40001": "serialization_failures", "55P03": "lock_timeouts"}
_INDEX = {name: i for i, name in enumerate(counters.FIELDS)}


def _bump(name: str, amount: int = 1) -> None:
    with _state["lock"]:
        _state["values"][_INDEX[name]] += amount


def _count_sql(execute, sql, params, many, context):
    started = time.perf_counter_ns()
    try:
        return execute(sql, params, many, context)
    except Exception as exc:
        code = getattr(exc.__cause__, "sqlstate", None) or getattr(exc, "sqlstate", None)
        if code:
            _bump(_RETRYABLE.get(code, "other_db_errors"))
        raise
    finally:
        elapsed = time.perf_counter_ns() - started
        with _state["lock"]:
            values = _state["values"]
            values[_INDEX["queries"]] += 1
            values[_INDEX["query_ns"]] += elapsed


def post_worker_init(worker):
    switches = [name for name in os.environ.get("BENCH_WHATIF", "").split(",") if name]
    if switches:
        from bench import whatif

        whatif.apply(switches)
    path = os.environ.get("BENCH_COUNTERS")
    if not path:
        return
    _state["map"] = counters.open_map(Path(path), write=True)
    _state["slot"] = worker.age
    _state["values"] = [0] * len(counters.FIELDS)
    _state["values"][0] = os.getpid()
    counters.write_slot(_state["map"], _state["slot"], _state["values"])


def pre_request(worker, req):
    if _state["map"] is None:
        return
    from django.db import connections

    connection = connections["default"]  # one per thread (gthread workers have several)
    if _count_sql not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_sql)
    _local.started = time.perf_counter_ns()


def post_request(worker, req, environ, resp):
    if _state["map"] is None:
        return
    elapsed = time.perf_counter_ns() - getattr(_local, "started", time.perf_counter_ns())
    with _state["lock"]:
        values = _state["values"]
        values[_INDEX["requests"]] += 1
        values[_INDEX["request_ns"]] += elapsed
        counters.write_slot(_state["map"], _state["slot"], values)
