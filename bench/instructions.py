"""``python -m bench.instructions TREE_A TREE_B``: the app's instructions per request, two trees, counted.

On this shared host the CPU time of the same work moves by up to 2x within minutes (bench/README.md),
so a change of a few per cent is lost in any timed A/B short of an hour. An instruction count does not
move with the host: each side (bench/interleaved.py's in-process worker: the whole WSGI stack, the
services and their SQL on the benchmark database, responses closed as a server closes them) runs under
valgrind's callgrind, which counts only between the controller's switches, after the side is warm. Per
tree it counts ``--ops`` external transfers, then as many reads (the account list and a statement page,
alternately), then the job worker's share of as many transfers (made uncounted, then carried out in the
worker's batches of 40). Repeated runs agree within 0.3 %.

What it does not see: the kernel (system calls, a round trip's wake-ups), PostgreSQL, and anything the
host does to the speed of an instruction. A change that saves a round trip saves more time than its
instructions say; for those, and for the whole, the timed A/B (``python -m bench``) is the measure.

Needs valgrind (``python3 scripts/bench.py instructions ...`` installs it with apt-get when missing) and
the database the last ``python -m bench`` seeded, as bench.interleaved does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KINDS = ("transfers", "reads", "worker")
WORKER = Path(__file__).resolve().with_name("interleaved.py")


def count(tree: Path, kind: str, ops: int) -> float:
    """Instructions per operation of ``kind`` in ``tree`` (one side process under callgrind)."""
    python = tree / ".venv" / "bin" / "python"
    env = {**os.environ, "EMBEDDED_PG_DB": os.environ.get("EMBEDDED_PG_DB", "nexus_bench"), "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as scratch, \
            (Path(scratch) / "side.log").open("w") as log:
        out = Path(scratch) / "callgrind.out"
        side = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             str(python if python.exists() else sys.executable), str(WORKER), "--worker", "0"],
            cwd=tree, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)

        def failed(what: str) -> SystemExit:
            side.kill()
            side.wait()
            tail = [line for line in Path(log.name).read_text().splitlines() if not line.startswith("==")][-5:]
            return SystemExit("\n".join([f"{tree}: {what}", *tail]))

        def ask(line: str) -> None:
            side.stdin.write(line + "\n")
            side.stdin.flush()
            if side.stdout.readline().strip() != "done":
                raise failed(f"the side did not answer {line!r}")

        if side.stdout.readline().strip() != "ready":
            raise failed("the side did not start (run `python -m bench` once first: it seeds nexus_bench)")
        if kind == "worker":
            ask(f"make {ops}")
        switch = ["callgrind_control", "--instr=on", str(side.pid)]
        subprocess.run(switch, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ask("drain" if kind == "worker" else f"{kind} {ops}")
        side.stdin.close()
        side.wait()
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"{tree}: callgrind wrote no totals")
        return int(totals.group(1)) / ops


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="one or two checkouts: A (the base) and B (the change)")
    parser.add_argument("--ops", type=int, default=100, help="operations counted per kind (default 100)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"which of {', '.join(KINDS)} (default: all)")
    args = parser.parse_args(argv)
    kinds = [kind for kind in args.kinds.split(",") if kind]
    if len(args.trees) > 2 or not set(kinds) <= set(KINDS) or args.ops < 1:
        parser.error("one or two trees, kinds among " + ", ".join(KINDS) + ", --ops at least 1")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed: python3 scripts/bench.py instructions ... installs it", file=sys.stderr)
        return 2
    figures = {kind: [count(tree, kind, args.ops) for tree in args.trees] for kind in kinds}
    for kind, per_tree in figures.items():
        line = "   ".join(f"{tree}: {value / 1e6:.3f} M" for tree, value in zip(args.trees, per_tree, strict=True))
        change = f"   B against A: {100 * (per_tree[1] / per_tree[0] - 1):+.1f} %" if len(per_tree) == 2 else ""
        print(f"{kind:9} instructions per operation   {line}{change}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
