"""Speed and scale: faqbot's query path beside rank-bm25 and bm25s, on the same tokens, in one run.

    python benchmarks/speed.py                    # 100k and 1M passages
    python benchmarks/speed.py --sizes 200000     # other sizes
    python benchmarks/speed.py --quick            # 20k only, a smoke test

Prints one markdown table per size. Passages are real text (benchmarks/corpus_pool.py). Built
indexes are cached in benchmarks/.cache/index-<size>/ with their build figures (--rebuild to
redo). Builds and loads run in child processes so their peak and resident memory are measured
alone. The semantic reranker is off throughout (lexical search only, FAQBOT_SEMANTIC=0).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_pool import iter_passages  # noqa: E402

CACHE = REPO / "benchmarks" / ".cache"
K = 10
LOAD_RUNS = 5
ASK_RUNS = 5
ASK_QUESTION = "how do I configure the database connection?"
# rank-bm25 keeps a Python dict per passage: about 2.5 KB each with its token lists at 1M passages.
RANK_BM25_BYTES_PER_PASSAGE = 2500
BUILD_WORKERS = 2  # processes that analyse passages during a build (2 cores)
PARALLEL_FROM = 50_000  # smaller builds analyse in-process: starting workers costs more than they save


# ---------------------------------------------------------------- child processes


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")



class _WorkerPeaks:
    """The peak resident memory (VmHWM) of this process's children, sampled while they run."""

    def __init__(self):
        import threading

        self.peaks: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.2):
            for children in Path("/proc/self/task").glob("*/children"):
                for pid in children.read_text().split():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peaks[int(pid)] = int(line.split()[1]) / 1024

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return sum(self.peaks.values())


def child_build(n: int, index_dir: str, workers: int = BUILD_WORKERS) -> dict:
    """Tokenize and index n passages; time only faqbot's work (passage generation excluded).

    Passages are analysed in `workers` processes from PARALLEL_FROM passages on (IndexWriter.add_passages;
    the index is the same as a serial build's); peak memory is this process's plus the workers'.
    """
    from faqbot.index.writer import IndexWriter

    workers = workers if n >= PARALLEL_FROM else 0
    passages = iter_passages(n)
    first = next(passages)  # loads the pool: its memory is the benchmark's, not the build's
    baseline = _rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    generating = 0.0

    def items():
        nonlocal generating
        passage = first
        while passage is not None:
            yield passage, None
            t = time.perf_counter()
            passage = next(passages, None)
            generating += time.perf_counter() - t

    peaks = _WorkerPeaks()
    started = time.perf_counter()
    cpu = time.process_time()
    writer = IndexWriter(index_dir)
    writer.add_passages(items(), workers=workers)
    publishing = time.perf_counter()
    writer.publish(articles=(n + 19) // 20)
    seconds = time.perf_counter() - started - generating
    publishing = time.perf_counter() - publishing
    workers_mb = peaks.stop()
    return {"build_s": seconds, "peak_mb": _rss_mb("VmHWM") + workers_mb, "main_peak_mb": _rss_mb("VmHWM"),
            "workers_peak_mb": workers_mb, "workers": workers, "baseline_mb": baseline,
            "main_cpu_s": time.process_time() - cpu, "generating_s": generating, "publish_s": publishing,
            "workers_cpu_s": (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN)),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_load(index_dir: str, question: str) -> dict:
    """Load time, resident memory after load, and the first question's time, in a fresh process."""
    from faqbot.index.store import Index
    from faqbot.search.lexical import search

    rss_before = _rss_mb()
    started = time.perf_counter()
    index = Index.load(index_dir)
    load_s = time.perf_counter() - started
    rss_after = _rss_mb()
    started = time.perf_counter()
    search(index, question, K)
    first_s = time.perf_counter() - started
    from faqbot.search.lexical import warm_up

    started = time.perf_counter()
    warm_up(index)  # what a server worker does before taking requests: kernel load, per-term and block bounds
    warm_s = time.perf_counter() - started
    return {"load_s": load_s, "rss_mb": rss_after, "rss_before_mb": rss_before, "first_query_s": first_s,
            "warm_s": warm_s, "rss_warm_mb": _rss_mb()}


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- helpers


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def ms(value: float) -> str:
    if value != value:
        return "n/a"
    return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"


def faster(theirs: float, ours: float) -> str:
    ratio = theirs / ours
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ensure_index(n: int, rebuild: bool) -> tuple[Path, dict, bool]:
    """The cached index of n passages and its build figures; built in a child process if missing."""
    index_dir = CACHE / f"index-{n}"
    stats_path = CACHE / f"index-{n}.build.json"
    if rebuild or not stats_path.exists() or not (index_dir / "manifest.json").exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        print(f"[{n}] building the index (child process)...", file=sys.stderr, flush=True)
        stats = run_child("build", str(n), str(index_dir), str(BUILD_WORKERS))
        stats_path.write_text(json.dumps(stats))
        return index_dir, stats, False
    return index_dir, json.loads(stats_path.read_text()), True


def body_tokens(index, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's body tokens as index term ids (flat, lengths): what the baselines index."""
    path = CACHE / f"index-{n}.body-{index.version}.npz"
    if path.exists():
        data = np.load(path)
        return data["flat"], data["lengths"]
    from faqbot.index.store import encode_term
    from faqbot.index.pipeline import passage_tokens

    print(f"[{n}] tokenizing the body field for the baselines...", file=sys.stderr, flush=True)
    ids = {bytes(t): i for i, t in enumerate(index.terms)}
    flat: list[int] = []
    lengths = []
    for passage in iter_passages(n):
        tokens = [ids[encode_term(t)] for t in passage_tokens(passage)["body"]]
        flat.extend(tokens)
        lengths.append(len(tokens))
    flat_a, lengths_a = np.array(flat, dtype=np.int32), np.array(lengths, dtype=np.int64)
    for old in CACHE.glob(f"index-{n}.body-*.npz"):
        old.unlink()
    np.savez(path, flat=flat_a, lengths=lengths_a)
    return flat_a, lengths_a


def token_lists(flat: np.ndarray, lengths: np.ndarray, n_terms: int) -> list[list[int]]:
    """Per-passage lists of shared Python ints (one object per term, so 1M passages fit in memory)."""
    objects = np.array(list(range(n_terms)) + [-1], dtype=object)
    tokens = objects[flat].tolist()
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return [tokens[bounds[i]:bounds[i + 1]] for i in range(len(lengths))]


def query_ids(query) -> list[int]:
    """The analysed question as term ids, unknown terms as -1 (they score 0 everywhere)."""
    return [query.ids[t] if query.ids[t] is not None else -1 for t in query.terms.elements()]


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


# ---------------------------------------------------------------- the benchmark


def head_to_head(calls: dict, items: list) -> dict[str, dict]:
    """Percentiles of each of calls (name -> function of an item), timed on each item back to back,
    in turn first (so drift in the machine's speed, which moves every figure here by a third
    between runs, hits them alike)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    gc.disable()
    try:
        for item in items:
            order = order[1:] + order[:1]
            for name in order:
                t = time.perf_counter()
                calls[name](item)
                times[name].append(time.perf_counter() - t)
    finally:
        gc.enable()
    return {name: percentiles(v) for name, v in times.items()}


def bench_size(n: int, n_queries: int, rank_sample: int, rebuild: bool, http_seconds: int = 10) -> list[tuple[str, str]]:
    from faqbot.search.answer import ask
    from faqbot.index.store import Index
    from faqbot.index.bm25 import accumulate
    from faqbot.search.lexical import best_passages, parse_query, search

    from corpus_pool import make_queries

    rows: list[tuple[str, str]] = [("load average at start (1 min, 2 cores shared)", f"{os.getloadavg()[0]:.1f}")]
    index_dir, build, cached = ensure_index(n, rebuild)
    rows.append(("build (tokenize + IndexWriter, child process)",
                 f"{build['build_s']:.1f} s{' (cached)' if cached else ''}"))
    rows.append(("build peak RSS (incl. passage generator)",
                 f"{build['peak_mb']:.0f} MB (generator alone {build['baseline_mb']:.0f} MB)"))
    rows.append(("index on disk", f"{dir_bytes(index_dir) / 1e6:.0f} MB"))

    questions = make_queries(n_queries)
    loads = [run_child("load", str(index_dir), questions[i]) for i in range(LOAD_RUNS)]
    rows.append((f"load (Index.load, child, median of {LOAD_RUNS})", ms(statistics.median(r["load_s"] for r in loads) * 1000)))
    rows.append(("RSS after load (child)", f"{statistics.median(r['rss_mb'] for r in loads):.0f} MB "
                 f"(interpreter + imports {statistics.median(r['rss_before_mb'] for r in loads):.0f} MB)"))
    rows.append(("first question after load (child, median)", ms(statistics.median(r["first_query_s"] for r in loads) * 1000)))
    rows.append(("server worker warm-up after load: compiled kernel + bounds (child, median)",
                 f"{statistics.median(r['warm_s'] for r in loads):.2f} s, RSS then "
                 f"{statistics.median(r['rss_warm_mb'] for r in loads):.0f} MB"))

    index = Index.load(index_dir)
    from faqbot.search import kernel
    from faqbot.search.lexical import warm_up

    compiled = warm_up(index)  # as the server does at start-up
    if compiled:
        from faqbot.search.lexical import FIELD_WEIGHTS, _plan

        plan = _plan(index, FIELD_WEIGHTS, kernel.loaded())  # the path search() takes on this index
        path = ("range by range over the top tiers" if plan.tiered
                else "term at a time, pruned" if plan.prune else "term at a time, every posting added (long lists: then every score scanned)")
    rows.append(("query kernel", f"compiled (numba, loaded from its disk cache), {path}" if compiled
                 else "numpy (numba unavailable)"))
    for q in questions[:50]:  # warm the page cache and the accumulator buffer
        search(index, q, K)

    cpu: dict[str, dict] = {}

    def timed(fn, items, name: str = "") -> list[float]:
        """Wall time per call; the thread's CPU time too (the gap is other processes' load)."""
        out, used = [], []
        clock, thread_clock = time.perf_counter, time.thread_time
        gc.disable()
        try:
            for item in items:
                t, c = clock(), thread_clock()
                fn(item)
                used.append(thread_clock() - c)
                out.append(clock() - t)
        finally:
            gc.enable()
        cpu[name] = percentiles(used)
        return out

    ours = percentiles(timed(lambda q: search(index, q, K), questions, "search"))
    rows.append((f"faqbot search() body+question, {len(questions)} queries (analysis included; first pass, "
                 "words new to the process)",
                 f"p50 {ms(ours['p50'])}, p99 {ms(ours['p99'])}, mean {ms(ours['mean'])} "
                 f"(CPU time: p50 {ms(cpu['search']['p50'])}, p99 {ms(cpu['search']['p99'])})"))
    again = percentiles(timed(lambda q: search(index, q, K), questions, "again"))
    rows.append(("faqbot search() body+question, second pass (as the numpy row below)",
                 f"p50 {ms(again['p50'])}, p99 {ms(again['p99'])}, mean {ms(again['mean'])} "
                 f"(CPU time: p50 {ms(cpu['again']['p50'])}, p99 {ms(cpu['again']['p99'])})"))

    parsed = [parse_query(index, q) for q in questions]

    def body_only(query):
        return best_passages(index, query.known, K, {"body": 1.0})

    body = percentiles(timed(body_only, parsed, "body"))
    rows.append(("faqbot body field only, pre-analysed (what rank-bm25 computes)",
                 f"p50 {ms(body['p50'])}, p99 {ms(body['p99'])}, mean {ms(body['mean'])} "
                 f"(CPU time: p50 {ms(cpu['body']['p50'])}, p99 {ms(cpu['body']['p99'])})"))
    kernels, kernel._kernels = kernel._kernels, None  # the numpy path: what a one-shot `faqbot ask` uses
    one_shot = percentiles(timed(lambda q: search(index, q, K), questions, "numpy"))
    kernel._kernels = kernels
    rows.append(("faqbot search(), numpy path (one-shot CLI, no numba import), after the passes above",
                 f"p50 {ms(one_shot['p50'])}, p99 {ms(one_shot['p99'])} (CPU time: p50 {ms(cpu['numpy']['p50'])})"))
    asked = percentiles(timed(lambda q: ask(index, q, 5), questions[:500]))
    rows.append(("faqbot ask() lexical, 500 queries (answer + confidence + passages)",
                 f"p50 {ms(asked['p50'])}, p99 {ms(asked['p99'])}"))

    flat, lengths = body_tokens(index, n)
    n_terms = len(index.terms)
    sample = parsed[:rank_sample]

    # rank-bm25
    need_mb = n * RANK_BM25_BYTES_PER_PASSAGE / 1e6
    if mem_available_mb() < need_mb * 2:
        rows.append(("rank-bm25 BM25Okapi", f"not run: needs ~{need_mb:.0f} MB, {mem_available_mb():.0f} MB available"))
    else:
        from rank_bm25 import BM25Okapi

        corpus = token_lists(flat, lengths, n_terms)
        t = time.perf_counter()
        reference = BM25Okapi(corpus)
        rank_build = time.perf_counter() - t
        del corpus
        ref_scores = {}

        def rank_query(i):
            scores = reference.get_scores(query_ids(sample[i]))
            ref_scores[i] = scores
            top = np.argpartition(-scores, K)[:K]
            return top[np.argsort(-scores[top], kind="stable")]

        rank = percentiles(timed(rank_query, range(len(sample))))
        rows.append((f"rank-bm25 BM25Okapi get_scores + top-{K}, {len(sample)} queries",
                     f"p50 {ms(rank['p50'])}, p99 {ms(rank['p99'])} (its build {rank_build:.0f} s)"))
        diffs, agree = [], 0
        for i, query in enumerate(sample):
            expected = ref_scores[i]
            dense = accumulate(index.fields["body"], query.known, index.n_passages)
            diffs.append(float(np.abs(dense - expected).max()))
            hits = best_passages(index, query.known, K, {"body": 1.0})
            want = np.lexsort((np.arange(len(expected)), -expected))[:K]
            want = [d for d in want if expected[d] > 0]
            got = [h.doc for h in hits]
            same = len(got) == len(want) and all(
                g == w or abs(expected[g] - expected[w]) <= 1e-6 for g, w in zip(got, want))
            agree += same
        rows.append(("scores vs rank-bm25 (body field, same tokens)",
                     f"max abs diff {max(diffs):.1e}; top-{K} identical (up to ties) on {agree}/{len(sample)} queries"))
        rows.append(("faqbot vs rank-bm25 at the median", f"{faster(rank['p50'], ours['p50'])} (search()), "
                     f"{faster(rank['p50'], body['p50'])} (body field only)"))
        del reference, ref_scores
        gc.collect()

    # bm25s, numpy and numba backends, on the same term ids
    import bm25s

    vocab = {f"t{i}": i for i in range(n_terms)}
    corpus = token_lists(flat, lengths, n_terms)
    bm25s_query_ids = [[t for t in query_ids(q) if t >= 0] for q in parsed]
    for backend in ("numpy", "numba"):
        try:
            retriever = bm25s.BM25(method="robertson", backend=backend)
            t = time.perf_counter()
            retriever.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=vocab), show_progress=False)
            built = time.perf_counter() - t
        except Exception as err:  # numba missing or failing: say so, keep going
            rows.append((f"bm25s {backend}", f"not run: {type(err).__name__}: {err}"))
            continue
        usable = [ids for ids in bm25s_query_ids if ids]

        def retrieve(ids):
            return retriever.retrieve([ids], k=K, n_threads=0, show_progress=False)

        retrieve(usable[0])  # numba compiles on the first call: not counted
        theirs = percentiles(timed(retrieve, usable, backend))
        rows.append((f"bm25s {backend} (method robertson, k={K}, one query per call, single thread)",
                     f"p50 {ms(theirs['p50'])}, p99 {ms(theirs['p99'])} (CPU time: p50 {ms(cpu[backend]['p50'])}; its build {built:.0f} s)"))
        rows.append((f"faqbot vs bm25s {backend} at the median",
                     f"{faster(theirs['p50'], ours['p50'])} (search()), {faster(theirs['p50'], body['p50'])} (body field only)"))
        if backend == "numba":
            got = head_to_head({"search": lambda i: search(index, questions[i], K),
                                "body": lambda i: body_only(parsed[i]),
                                "bm25s": lambda i: retrieve(bm25s_query_ids[i])},
                               [i for i, ids in enumerate(bm25s_query_ids) if ids])
            mine, body_mine, theirs = got["search"], got["body"], got["bm25s"]
            rows.append(("faqbot vs bm25s numba, interleaved question by question (words already seen)",
                         f"p50 / p99: search() {ms(mine['p50'])} / {ms(mine['p99'])}, body field only "
                         f"{ms(body_mine['p50'])} / {ms(body_mine['p99'])}, bm25s {ms(theirs['p50'])} / "
                         f"{ms(theirs['p99'])}: {faster(theirs['p50'], mine['p50'])} (search()), "
                         f"{faster(theirs['p50'], body_mine['p50'])} (body field only)"))
        del retriever
        gc.collect()
    del corpus

    # faqbot ask as a fresh process, end to end
    env = {**os.environ, "FAQBOT_SEMANTIC": "0"}
    script = Path(sys.executable).parent / "faqbot"  # the console script itself, not a version-manager shim
    command = [str(script)] if script.exists() else [sys.executable, "-m", "faqbot"]
    walls = []
    for _ in range(ASK_RUNS):
        t = time.perf_counter()
        subprocess.run([*command, "ask", ASK_QUESTION, "--json", "--index", str(index_dir)], env=env, check=True,
                       capture_output=True, cwd=REPO)
        walls.append(time.perf_counter() - t)
    rows.append((f"`faqbot ask \"...\" --json` fresh process (median of {ASK_RUNS})", f"{statistics.median(walls) * 1000:.0f} ms"))

    if http_seconds:
        from load import http_figures

        http = http_figures(index_dir, workers=2, seconds=http_seconds)
        rows.append((f"HTTP POST /api/ask, `faqbot serve --workers 2`, wrk 1 thread {http['connections']} connections "
                     f"{http['seconds']} s, rate limit off, question log on",
                     f"{http['rps']:.0f} req/s, p50 {http['p50_ms']:.1f} ms, p99 {http['p99_ms']:.1f} ms, "
                     f"{http['errors']} errors; worker RSS {' / '.join(f'{r:.0f}' for r in http['rss_mb'])} MB; "
                     f"worker CPU {http['server_cpu_ms']:.2f} ms/request (load avg before {http['load_avg']:.1f})"))
    return rows


def print_table(n: int, rows: list[tuple[str, str]]) -> None:
    print(f"\n### {n:,} passages\n")
    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    sys.stdout.flush()


def main() -> None:
    global BUILD_WORKERS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="Comma-separated passage counts")
    parser.add_argument("--quick", action="store_true", help="20k passages only")
    parser.add_argument("--queries", type=int, default=2000, help="Timed queries per size")
    parser.add_argument("--rebuild", action="store_true", help="Rebuild cached indexes")
    parser.add_argument("--build-only", action="store_true", help="Only build each size (in a child process) and print its figures")
    parser.add_argument("--workers", type=int, default=2, help="Analysis processes for builds (0: serial)")
    parser.add_argument("--http-seconds", type=int, default=10, help="HTTP load per size (0: skip; needs wrk)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_build(int(rest[0]), rest[1], int(rest[2])) if kind == "build" else child_load(rest[0], rest[1])
        print(json.dumps(result))
        return
    BUILD_WORKERS = args.workers
    if args.build_only:
        CACHE.mkdir(parents=True, exist_ok=True)
        for n in ([20000] if args.quick else [int(s) for s in args.sizes.split(",")]):
            _, stats, cached = ensure_index(n, args.rebuild)
            print(json.dumps({"passages": n, "cached": cached, **stats}))
        return
    sizes = [20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"faqbot speed benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}")
    for n in sizes:
        rank_sample = 30 if n <= 200_000 else 5
        print_table(n, bench_size(n, args.queries, rank_sample, args.rebuild, args.http_seconds))


if __name__ == "__main__":
    main()
