"""Indexing speed A/B: `faqbot index --full` on the same folders with two checkouts, interleaved.

    python benchmarks/index_ab.py BASELINE_REPO [FOLDER ...] [--runs 3] [--semantic]

Each run is a fresh `python -m faqbot index` process, started in an empty folder, with PYTHONPATH set to one checkout (this repo or
BASELINE_REPO, e.g. /work/main), taking turns so machine drift hits both alike. FOLDERs default to the
two HTML dev sets' pages/ beside the repo. Embeddings are off unless --semantic (they cost the same
in both and would hide the reading step). Prints each checkout's median wall and CPU time and the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_index(repo: Path, folders: list[Path], semantic: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one `faqbot index --full` process (CPU is steadier on a shared machine)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "FAQBOT_SEMANTIC": "1" if semantic else "0"}
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), _cpu()
        subprocess.run([sys.executable, "-m", "faqbot", "index", *map(str, folders), "--full",
                        "--index", str(Path(tmp) / "index")], env=env, cwd=tmp, check=True, capture_output=True)
        return time.perf_counter() - started, _cpu() - cpu


def main(argv: list[str] | None = None) -> int:
    """Time both checkouts in turn and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--semantic", action="store_true")
    args = parser.parse_args(argv)
    folders = args.folders or [SHARED / "html-dev" / "pages", SHARED / "html-dev-more" / "pages"]
    pages = sum(len(list(f.glob("*.htm*"))) for f in folders)
    times: dict[str, list[tuple[float, float]]] = {"baseline": [], "this": []}
    for run in range(args.runs):
        order = [("baseline", args.baseline), ("this", REPO)]
        for name, repo in order if run % 2 == 0 else reversed(order):
            times[name].append(_time_index(repo, folders, args.semantic))
    medians = {name: [statistics.median(t[k] for t in runs) for k in (0, 1)] for name, runs in times.items()}
    print(f"| checkout | pages | wall, median of {args.runs} | CPU, median of {args.runs} | CPU per run |")
    print("|---|---|---|---|---|")
    for name, repo in (("baseline", args.baseline), ("this", REPO)):
        wall, cpu = medians[name]
        runs = ", ".join(f"{c:.2f}" for _, c in times[name])
        print(f"| {name} {repo} | {pages} | {wall:.2f} s | {cpu:.2f} s | {runs} |")
    print(f"ratio this/baseline: wall {medians['this'][0] / medians['baseline'][0]:.2f}, "
          f"CPU {medians['this'][1] / medians['baseline'][1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
