"""A/B HTTP load of this checkout against another, on the same English passages, sides taking turns.

    python benchmarks/http_ab.py --other <checkout> [--size 100000] [--rounds 6] [--seconds 10]

Each side serves its own index of the same generated passages (built and cached by
benchmarks/speed_ab.py: benchmarks/.cache/ab-<side>-<size>/) with its own `faqbot serve --workers 2`,
driven by its own benchmarks/load.py (wrk, 4 connections, question log on, rate limit off). Prints
each side's median req/s, worker CPU per request and p99 over the rounds, with every round's value:
CPU per request is the steady figure on a shared machine; req/s and p99 follow the machine's load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from speed_ab import ab_parser, side_indexes, take_turns

KEYS = ("rps", "p50_ms", "p99_ms", "errors", "server_cpu_ms", "load_avg")


def _serve(root: str, index_dir: Path, seconds: int) -> dict:
    code = (f"import sys, json; sys.path[:0] = [{root!r}, {root + '/benchmarks'!r}]; from load import http_figures; "
            f"f = http_figures({str(index_dir)!r}, workers=2, seconds={seconds}); "
            f"print(json.dumps({{k: f[k] for k in {KEYS!r}}}))")
    env = {**os.environ, "PYTHONPATH": root, "FAQBOT_SEMANTIC": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = ab_parser(__doc__.split("\n\n")[0], "the other checkout (its faqbot and benchmarks/load.py are used)")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args(argv)
    sides, dirs = side_indexes(args.other, args.size)

    def serve_once(side: str) -> dict:
        row = _serve(sides[side], dirs[side], args.seconds)
        print(f"{side}: {row['rps']:.0f} req/s, p99 {row['p99_ms']:.1f} ms, "
              f"{row['server_cpu_ms']:.2f} ms CPU/request (load average {row['load_avg']:.1f})", flush=True)
        return row

    results = take_turns(sides, args.rounds, serve_once)
    print(f"\n{args.size} English passages, {args.rounds} rounds of {args.seconds} s taking turns "
          f"(this = {sides['this']}, other = {sides['other']}); median over rounds, every round in brackets\n")
    print("| side | req/s | worker CPU ms/request | p99 ms | errors |")
    print("|---|---|---|---|---|")
    for side, rows in results.items():
        cells = []
        for key, fmt in (("rps", "{:.0f}"), ("server_cpu_ms", "{:.2f}"), ("p99_ms", "{:.1f}")):
            values = [r[key] for r in rows]
            cells.append(f"{fmt.format(statistics.median(values))} ({', '.join(fmt.format(v) for v in values)})")
        print(f"| {side} | {' | '.join(cells)} | {sum(r['errors'] for r in rows)} |")


if __name__ == "__main__":
    main()
