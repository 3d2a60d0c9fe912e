"""A/B query speed of this checkout against another (e.g. main) on the same English passages, one run.

    python benchmarks/speed_ab.py --other /work/main [--size 100000] [--rounds 6] [--queries 400]

Each side builds its own index of the same generated passages (benchmarks/corpus_pool.py; cached
under benchmarks/.cache/ab-<side>-<size>/), then child processes time search() and lexical ask()
on the same questions, the two sides taking turns round after round so that machine load hits
both alike. Prints the median over rounds of each side's p50 and p99, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "benchmarks" / ".cache"


def _child(root: str, args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": root, "FAQBOT_SEMANTIC": "0"}
    # The side's own faqbot and benchmark helpers first; this file's folder last (for speed_ab itself).
    code = (f"import sys; sys.path[:0] = [{root!r}, {root + '/benchmarks'!r}, {str(REPO / 'benchmarks')!r}]; "
            f"from speed_ab import child; child({args!r})")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(args: list[str]) -> None:
    """In a child: "build N DIR" or "time DIR QUERIES"; prints one JSON line."""
    import numpy as np

    if args[0] == "build":
        from speed import child_build

        print(json.dumps(child_build(int(args[1]), args[2])))
        return
    from corpus_pool import make_queries
    try:
        from faqbot.search.answer import AnswerSettings, ask
        from faqbot.index.store import Index
        from faqbot.search.lexical import search, warm_up
    except ImportError:  # a checkout from before the subpackages (40d5639), e.g. cab71b7
        from faqbot.answer import AnswerSettings, ask
        from faqbot.index import Index
        from faqbot.search import search, warm_up

    index = Index.load(args[1])
    warm_up(index)
    questions = make_queries(int(args[2]))
    for q in questions[:50]:
        search(index, q, 10)
    out = {}
    for name, fn in (("search", lambda q: search(index, q, 10)), ("ask", lambda q: ask(index, q, 5, AnswerSettings()))):
        times = []
        for q in questions:
            started = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - started)
        ms = np.array(times) * 1000
        out[name] = {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}
    print(json.dumps(out))


def ab_parser(description: str, other_help: str) -> argparse.ArgumentParser:
    """The options every A/B benchmark takes: --other, --size, --rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--other", required=True, help=other_help)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=6)
    return parser


def side_indexes(other: str, size: int) -> tuple[dict[str, str], dict[str, Path]]:
    """Each side's checkout and its index of the same size passages (built by that side once, then cached)."""
    sides = {"this": str(REPO), "other": str(Path(other).resolve())}
    dirs = {}
    for side, root in sides.items():
        dirs[side] = CACHE / f"ab-{side}-{size}"
        if not (dirs[side] / "manifest.json").exists():
            build = _child(root, ["build", str(size), str(dirs[side])])
            print(f"{side}: built {size} passages in {build['build_s']:.1f} s", flush=True)
    return sides, dirs


def take_turns(sides: dict[str, str], rounds: int, run) -> dict[str, list[dict]]:
    """Run `run(side)` for every side, `rounds` times, alternating which side goes first."""
    results: dict[str, list[dict]] = {side: [] for side in sides}
    for n in range(rounds):
        for side in (sides if n % 2 == 0 else reversed(list(sides))):
            results[side].append(run(side))
    return results


def main(argv=None):
    parser = ab_parser(__doc__.split("\n\n")[0], "the other checkout (its faqbot package is imported)")
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args(argv)
    sides, dirs = side_indexes(args.other, args.size)
    results = take_turns(sides, args.rounds,
                         lambda side: _child(sides[side], ["time", str(dirs[side]), str(args.queries)]))
    print(f"\n{args.size} English passages, {args.queries} questions, {args.rounds} rounds taking turns "
          f"(this = {sides['this']}, other = {sides['other']}); median over rounds, ms\n")
    print("| call | this p50 | other p50 | this/other p50 | this p99 | other p99 |")
    print("|---|---|---|---|---|---|")
    for call in ("search", "ask"):
        med = {s: {k: statistics.median(r[call][k] for r in results[s]) for k in ("p50", "p99")} for s in sides}
        print(f"| {call}() | {med['this']['p50']:.3f} | {med['other']['p50']:.3f} | "
              f"{med['this']['p50'] / med['other']['p50']:.3f} | {med['this']['p99']:.3f} | {med['other']['p99']:.3f} |")


if __name__ == "__main__":
    main()
