"""A bounded closed-loop HTTP load generator: C threads, each with its own keep-alive connection.

Every thread sends its next request as soon as the previous response is read (closed loop, no
think time), until the deadline or the shared request budget runs out. Requests started during
the warm-up are sent but left out of the statistics. Everything a thread records stays in its own
``Recorder`` until the end, so the hot loop takes no locks.

HTTP/1.1 is spoken by ``Connection`` below, a minimal client on a plain socket: the load generator
shares the 2 cores with the server and the database, and ``http.client`` (whose header parsing
goes through the ``email`` package) cost about twice its CPU per request. It reuses the
connection unless the server closes it (gunicorn's sync workers close after every response) and
reads bodies by ``Content-Length`` or to the end of the connection; anything else is an error.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Request:
    label: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)
    refusals: tuple[int, ...] = ()  # deliberate: the scenario asked for a refusal
    key: str | None = None  # idempotency key of a money request
    on_success: Callable[[bytes, Recorder], None] | None = None


@dataclass
class Movement:
    """What a 201 response says happened: a transaction (or bill) id and signed per-account amounts."""

    kind: str  # "transfer" or "bill"
    id: str
    key: str | None
    deltas: tuple[tuple[str, Decimal], ...]


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)  # (label, status) in the window
    errors: Counter = field(default_factory=Counter)  # (label, exception name) in the window
    outcomes: Counter = field(default_factory=Counter)  # (label, "ok"|"refused"|"error"), window only
    sent: int = 0
    warmup: int = 0
    per_second: Counter = field(default_factory=Counter)  # ok responses by second of the window
    movements: list[Movement] = field(default_factory=list)  # warm-up included: all money moved
    unknown_keys: list[str] = field(default_factory=list)  # money requests with no answer or a 5xx
    money_refusals: int = 0  # 422 answers to money requests, warm-up included


def body_json(data: bytes) -> dict:
    return json.loads(data)


class HTTPError(Exception):
    """A response this client cannot read (the connection is dropped and rebuilt)."""


class Connection:
    def __init__(self, host: str, port: int, timeout: float):
        self.address = (host, port)
        self.timeout = timeout
        self.host_header = f"Host: {host}:{port}\r\n".encode()
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """Send one request and read its response: (status, body)."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"{method} {path} HTTP/1.1\r\n".encode(), self.host_header]
        lines += [f"{name}: {value}\r\n".encode() for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body or b'')}\r\n\r\n".encode())
        self.sock.sendall(b"".join(lines) + (body or b""))
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HTTPError("connection closed before the response headers")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HTTPError(f"bad status line {status_line!r}") from exc
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        connection = fields.get("connection", "").lower()
        close = connection == "close" or (status_line.startswith("HTTP/1.0") and connection != "keep-alive")
        if "transfer-encoding" in fields:
            raise HTTPError(f"unsupported transfer-encoding {fields['transfer-encoding']!r}")
        if "content-length" in fields:
            length = int(fields["content-length"])
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise HTTPError("connection closed inside the body")
                rest += chunk
            rest = rest[:length]
        else:  # the body runs to the end of the connection
            close = True
            while chunk := self.sock.recv(65536):
                rest += chunk
        if close:
            self.close()
        return status, rest


class Runner:
    def __init__(self, *, port: int, concurrency: int, duration: float, warmup: float, max_requests: int,
                 timeout: float, next_request: Callable[[int, object], Request], rng_factory: Callable[[int], object],
                 rate: float | None = None):
        self.port = port
        # Open loop: request i is due at begin + i / rate, whatever the answers before it; its latency
        # counts from when it was due, so time spent waiting for a free client is counted too (a closed
        # loop slows down with the server and hides that queueing: coordinated omission).
        self.rate = rate
        self.begin = 0.0
        self.concurrency = concurrency
        self.duration = duration
        self.warmup = warmup
        self.max_requests = max_requests
        self.timeout = timeout
        self.next_request = next_request
        self.rng_factory = rng_factory
        self.recorders = [Recorder() for _ in range(concurrency)]
        self._issued = itertools.count()
        self._go = threading.Event()
        self.window_start = self.deadline = 0.0
        self.window_end = 0.0

    def run(self, *, on_window_start: Callable[[], None] | None = None) -> float:
        """Run to completion; return the length of the measured window in seconds."""
        threads = [threading.Thread(target=self._loop, args=(i,), name=f"bench-{i}", daemon=True)
                   for i in range(self.concurrency)]
        for thread in threads:
            thread.start()
        begin = self.begin = time.perf_counter()
        self.window_start = begin + self.warmup
        self.deadline = self.window_start + self.duration
        self._go.set()
        time.sleep(max(0.0, self.window_start - time.perf_counter()))
        if on_window_start:
            on_window_start()
        for thread in threads:
            thread.join(timeout=max(1.0, self.deadline - time.perf_counter()) + self.timeout + 5)
        self.window_end = time.perf_counter()
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:
            raise RuntimeError(f"load threads did not finish: {stuck}")
        return self.window_end - self.window_start

    def _loop(self, index: int) -> None:
        rng = self.rng_factory(index)
        rec = self.recorders[index]
        conn = Connection("127.0.0.1", self.port, timeout=self.timeout)
        self._go.wait()
        try:
            while True:
                if self.rate:
                    issued = next(self._issued)
                    started = self.begin + issued / self.rate  # when it is due
                    if started >= self.deadline or issued >= self.max_requests:
                        break
                    time.sleep(max(0.0, started - time.perf_counter()))
                else:
                    started = time.perf_counter()
                    if started >= self.deadline or next(self._issued) >= self.max_requests:
                        break
                request = self.next_request(index, rng)
                measured = started >= self.window_start
                rec.sent += 1
                if not measured:
                    rec.warmup += 1
                try:
                    status, data = conn.exchange(request.method, request.path, request.body, request.headers)
                except (OSError, HTTPError) as exc:
                    # No retry: an error is reported, never hidden. The connection is rebuilt.
                    conn.close()
                    if request.key:
                        rec.unknown_keys.append(request.key)
                    if measured:
                        rec.errors[(request.label, type(exc).__name__)] += 1
                        rec.outcomes[(request.label, "error")] += 1
                    continue
                elapsed = time.perf_counter() - started
                if status == 422 and request.key:
                    rec.money_refusals += 1
                if status in request.ok:
                    outcome = "ok"
                    if request.on_success is not None:
                        request.on_success(data, rec)
                elif status in request.refusals:
                    outcome = "refused"
                else:
                    outcome = "error"
                    if status >= 500 and request.key:
                        rec.unknown_keys.append(request.key)
                if measured:
                    if outcome == "ok":
                        rec.per_second[int(started - self.window_start)] += 1
                    rec.latencies.setdefault(request.label, []).append(elapsed)
                    rec.statuses[(request.label, status)] += 1
                    rec.outcomes[(request.label, outcome)] += 1
        finally:
            conn.close()


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def latency_summary(values: list[float]) -> dict:
    ordered = sorted(values)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1] if ordered else None),
        "mean_ms": ms(sum(ordered) / len(ordered) if ordered else None),
    }
