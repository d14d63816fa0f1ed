"""``python -m bench.interleaved TREE_A TREE_B``: the app's own CPU per request, two trees interleaved.

On this shared host identical benchmark runs differ by up to 40 % (bench/README.md), more than most
changes worth measuring. Here one warm process per tree (each tree's own code, its own ``.venv`` if it
has one) drives the whole WSGI stack in-process (every middleware, DRF, the services and their SQL on the
same embedded benchmark database), without gunicorn, a load generator or concurrency; the two take turns
block by block, so a change of the host's speed falls on both alike. A block is 60 external transfers and
150 reads (the account list and a statement page, alternately) by one of two sets of customers, each tree
using each set in every other block (the sets' histories differ: a transfer from one cost 10 % more CPU
than from the other); the figure is ``time.process_time`` per request of that process, so PostgreSQL's
and the job worker's CPU are not in it.

The database is the one ``python -m bench`` seeded last (``nexus_bench``); run the benchmark once first.
A tree is any checkout with the benchmark's ``env.prepare`` (every commit since the benchmark has had
it): ``git worktree add /tmp/base <commit>`` gives one.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

TRANSFERS, READS = 60, 150
# The job worker's batch under the benchmark's load: what gathers in its 100 ms pause at ~400 transfers/s.
WORKER_BATCH = 40


def _worker(side: int) -> None:
    """One side: serve "go SET" lines from stdin with one block each by that set of customers, answering
    "transfer_us read_us". For ``bench.instructions`` (the side runs under callgrind, which counts only
    between the controller's switches): "transfers N", "reads N" and "make N" (transfers whose jobs are
    left waiting) by the first set, "drain" (the waiting jobs, in the job worker's batches), each
    answered "done"."""
    sys.path.insert(0, os.getcwd())
    from bench import env

    env.prepare(log_level="INFO")
    import importlib
    import logging

    # The servers' entry point: Django set up, and whatever the entry point does after that (nexus.heap).
    app = importlib.import_module("nexus.wsgi").application
    from api.models import Account
    from api.services.sessions import issue_tokens

    # The access log goes to a file, as a server's would (not to the controller's pipe).
    root = logging.getLogger()
    formatter = root.handlers[0].formatter if root.handlers else None
    for handler in list(root.handlers):
        root.removeHandler(handler)
    log = logging.FileHandler(os.devnull)
    log.setFormatter(formatter)
    root.addHandler(log)

    # Two sets of customers, ten senders and one receiver each; both trees use both, in turn.
    accounts = list(Account.objects.filter(role="customer", currency="JOD", owner__is_staff=False,
                                           owner__blocked_at=None).order_by("account_number")
                    .select_related("owner")[:24])
    sets = [(accounts[n * 12: n * 12 + 10], accounts[n * 12 + 10]) for n in (0, 1)]
    tokens = {account.pk: issue_tokens(account.owner)["access"] for senders, _ in sets for account in senders}

    def call(method: str, path: str, token: str, body: bytes = b"", key: str | None = None) -> str:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
                   "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(body),
                   "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/json"}
        if key:
            environ["HTTP_IDEMPOTENCY_KEY"] = key
        statuses = []
        answer = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(answer)
        answer.close()  # as a server does: the response's closers and request_finished run
        return statuses[0]

    def transfer(count: int, chosen: int) -> None:
        senders, receiver = sets[chosen]
        for i in range(count):
            sender = senders[i % len(senders)]
            body = json.dumps({"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "1.000"})
            status = call("POST", "/transfers/external/", tokens[sender.pk], body.encode(), key=str(uuid.uuid4()))
            assert status.startswith("201"), status

    def read(count: int, chosen: int) -> None:
        senders, _ = sets[chosen]
        for i in range(count):
            sender = senders[i % len(senders)]
            status = call("GET", "/accounts/" if i % 2 else f"/accounts/{sender.pk}/transactions/", tokens[sender.pk])
            assert status.startswith("200"), status

    def block(transfers: int, reads: int, chosen: int) -> tuple[float, float]:
        started = time.process_time()
        transfer(transfers, chosen)
        middle = time.process_time()
        read(reads, chosen)
        ended = time.process_time()
        return (middle - started) / transfers * 1e6, (ended - middle) / reads * 1e6

    from nexus import jobs

    block(20, 40, 0)  # warm: prepared statements, imports, the reference cache
    block(20, 40, 1)
    jobs.drain_all()
    print("ready", flush=True)
    for line in sys.stdin:
        command, *argument = line.split()
        if command == "go":
            transfer_us, read_us = block(TRANSFERS, READS, int(argument[0]))
            print(f"{transfer_us:.1f} {read_us:.1f}", flush=True)
            continue
        if command in ("transfers", "make"):
            transfer(int(argument[0]), 0)
        elif command == "reads":
            read(int(argument[0]), 0)
        elif command == "drain":
            while jobs.drain(WORKER_BATCH):
                pass
        print("done", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.interleaved", description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts: A (the base) and B (the change)")
    parser.add_argument("--rounds", type=int, default=16, help="blocks per tree, taking turns (default 16, even)")
    parser.add_argument("--side", type=int, help=argparse.SUPPRESS)  # internal: run as one side's worker
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (each tree runs each set of customers)")
    env = {**os.environ, "EMBEDDED_PG_DB": os.environ.get("EMBEDDED_PG_DB", "nexus_bench")}
    processes = []
    for side, tree in enumerate(args.trees):
        python = tree / ".venv" / "bin" / "python"
        processes.append(subprocess.Popen(
            [str(python if python.exists() else sys.executable), str(Path(__file__).resolve()), "--worker", str(side)],
            cwd=tree, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a side did not start; run `python -m bench` once first (it seeds nexus_bench)")
    figures: list[list[tuple[int, float, float]]] = [[], []]  # per tree: (set, transfer_us, read_us)
    for round_ in range(args.rounds):
        for side in ((0, 1) if round_ % 2 == 0 else (1, 0)):
            chosen = (side + round_) % 2
            processes[side].stdin.write(f"go {chosen}\n")
            processes[side].stdin.flush()
            transfer_us, read_us = map(float, processes[side].stdout.readline().split())
            figures[side].append((chosen, transfer_us, read_us))
    for process in processes:
        process.stdin.close()
        process.wait()

    def figure(blocks, column: int) -> float:
        """The mean of the two sets' medians: each tree is measured on both sets alike."""
        return statistics.mean(statistics.median(b[column] for b in blocks if b[0] == n) for n in (0, 1))

    medians = [(figure(side, 1), figure(side, 2)) for side in figures]
    for tree, (transfer_us, read_us) in zip(args.trees, medians, strict=True):
        print(f"{str(tree):40} transfer {transfer_us:7.0f} us   read {read_us:7.0f} us   ({args.rounds} blocks)")
    (ta, ra), (tb, rb) = medians
    print(f"B against A: CPU per transfer {100 * (tb / ta - 1):+.1f} %, per read {100 * (rb / ra - 1):+.1f} % "
          f"(per CPU-second {100 * (ta / tb - 1):+.1f} % and {100 * (ra / rb - 1):+.1f} %)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker(int(sys.argv[2]))
    else:
        sys.exit(main())
