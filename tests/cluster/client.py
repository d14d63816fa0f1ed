"""A small HTTP client and a bounded transfer load that records what every client was told.

Each client thread sends external transfers with an ``Idempotency-Key`` and keeps, per key, the
last answer it got. A request whose answer was lost (connection reset, a 5xx) is retried with the
same key and body, as a careful client would, so the same payment can never be applied twice.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def login(port: int, email: str, password: str) -> dict[str, str]:
    status, body, _ = request(port, "POST", "/auth/jwt/create/", {"email": email, "password": password})
    assert status == 200, (status, body[:300])
    return {"Authorization": f"Bearer {json.loads(body)['access']}"}


@dataclass
class Payment:
    key: str
    path: str
    body: dict
    headers: dict
    answers: list = field(default_factory=list)  # (status, parsed body or text, seconds since start)


@dataclass
class Load:
    """Threads that pay from ``payer`` accounts to ``payee`` accounts until stopped (or their budget ends)."""

    port: int
    payers: list  # (headers, sender account number, receiver account number, amount)
    threads: int = 4
    budget: int = 2000
    retry_pause: float = 0.05
    started: float = field(default_factory=time.monotonic)
    payments: list[Payment] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    timeline: list = field(default_factory=list)  # (seconds when it arrived, status) of every answer
    sent: list = field(default_factory=list)  # (seconds when its request was sent, status) of every answer
    exchanges: list = field(default_factory=list)  # (sent, arrived, status) of every answer
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list = field(default_factory=list)

    def start(self, prefix: str) -> Load:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(f"{prefix}-{index}", index), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self, timeout: float = 90) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout)
        assert not any(worker.is_alive() for worker in self._workers), "load threads did not stop"

    def _record(self, payment: Payment, status: int, content, sent: float) -> None:
        """An answer, timed when it arrived and when its request was sent (a request already in flight
        when a node died is told apart from one sent after the balancer knew)."""
        moment = time.monotonic() - self.started
        with self._lock:
            payment.answers.append((status, content, moment))
            self.statuses[status] += 1
            self.timeline.append((moment, status))
            self.sent.append((sent, status))
            self.exchanges.append((sent, moment, status))

    def _run(self, prefix: str, index: int) -> None:
        headers, sender, receiver, amount = self.payers[index % len(self.payers)]
        for n in range(self.budget):
            if self._stop.is_set():
                return
            payment = Payment(key=f"{prefix}-{n}", path="/transfers/external/",
                              body={"sender_account": sender, "receiver_account": receiver, "amount": amount},
                              headers={**headers, "Idempotency-Key": f"{prefix}-{n}"})
            with self._lock:
                self.payments.append(payment)
            # Until the client has an answer that settles it (201 or a 4xx), it retries with the same key.
            while True:
                sent = time.monotonic() - self.started
                try:
                    status, content, _ = request(self.port, "POST", payment.path, payment.body, payment.headers,
                                                 timeout=30)
                    parsed = json.loads(content) if content.startswith(b"{") else content[:200]
                except (OSError, http.client.HTTPException) as exc:
                    status, parsed = 0, type(exc).__name__
                self._record(payment, status, parsed, sent)
                if status and status < 500:
                    break
                if self._stop.is_set() and status == 0:
                    break  # the answer was lost and the run is over: settled by the check afterwards
                time.sleep(self.retry_pause)

    @property
    def acknowledged(self) -> dict[str, dict]:
        """Idempotency key -> the 201 body the client was given (first one)."""
        result = {}
        for payment in self.payments:
            for status, content, _ in payment.answers:
                if status == 201:
                    result.setdefault(payment.key, content)
        return result

    def waits(self, since: float, until: float) -> list[tuple[float, float, int]]:
        """(sent, seconds it took to be answered, status) of each request answered between the two times."""
        return [(sent, arrived - sent, status) for sent, arrived, status in list(self.exchanges)
                if since <= arrived <= until]

    def server_errors(self, *, after: float = 0.0, codes: tuple[int, ...] = (500,)) -> list:
        return [(moment, status) for moment, status in self.timeline if moment >= after and status in codes]
