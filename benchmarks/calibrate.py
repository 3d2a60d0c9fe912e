"""Fit the confidence model and choose the no-answer threshold from data.

    python benchmarks/calibrate.py [QUERIES.jsonl] [--out-of-scope FILE] [--realistic FILE]

Labels: for each in-scope question, whether faqbot's first passage is right; every out-of-scope
question (tests/data/out_of_scope.jsonl) counts as "first passage wrong". A logistic regression
on the features of faqbot.search.answer.confidence_features is fitted on half the articles (and half the
out-of-scope questions) and checked on the other half, then refitted on everything. The readers'
own-words questions (tests/data/realistic_faq.jsonl) join the fit with their "tuning" half only;
the "held-apart" half is only reported on. Prints the weights to put in faqbot/search/confidence_weights.py, a
reliability table and the threshold trade-off. The trade-off's dev and out-of-scope figures are
out of fold (each half scored by the fit on the other half); held-apart ones by the full fit.

Shares of in-scope questions in the trade-off: "right" and "wrong" are answers shown (the answer
text, its first passage right or wrong); "unsure" are questions answered with candidate FAQ
questions only (uncertain, no answer text: faqbot.search.answer.close_alternatives), "in chips" how many
of those list the right one; "none" no answer. The issue's "wrong shown" is the wrong column.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.search.answer import (DEFAULT_MIN_COSINE, AnswerSettings, close_alternatives,  # noqa: E402
                                  confidence_features, rank_passages)
from faqbot.search.confidence_weights import CONFIDENCE_FEATURES  # noqa: E402
from faqbot.index.embed import load_embedder  # noqa: E402
from faqbot.ops.evaluate import gold_passages, load_queries  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402

DEFAULT_QUERIES = REPO.parent / "shared" / "eval" / "queries.jsonl"
DEFAULT_OUT_OF_SCOPE = REPO / "tests" / "data" / "out_of_scope.jsonl"
DEFAULT_REALISTIC = REPO / "tests" / "data" / "realistic_faq.jsonl"


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50,
                 sample: np.ndarray | None = None) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression (the bias, column 0, unpenalised).

    sample: a weight per row (1 for each when None).
    """
    sample = np.ones(len(y)) if sample is None else sample
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        grad = x.T @ (sample * (p - y)) + penalty * w
        hess = (x * (sample * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))


def reliability(p: np.ndarray, y: np.ndarray) -> list[str]:
    lines = ["| confidence | questions | right first passage |", "|---|---|---|"]
    edges = [0, 0.2, 0.4, 0.6, 0.8, 1.0001]
    for lo, hi in zip(edges, edges[1:]):
        mask = (p >= lo) & (p < hi)
        if mask.any():
            lines.append(f"| {lo:.1f}-{min(hi, 1):.1f} (mean {p[mask].mean():.2f}) | {mask.sum()} | {y[mask].mean():.2f} |")
    return lines


def collect(index: Index, queries, articles_dir: Path, settings: AnswerSettings):
    """Per question: (query, features of the first passage or None, first passage right,
    ambiguous between FAQ questions (ask's uncertain, if confident), the right one among them)."""
    passages = [index.passage(i) for i in range(index.n_passages)]
    rows = []
    for q in queries:
        query, ranked, semantic = rank_passages(index, q.query, 10, settings)
        if not ranked:
            rows.append((q, None, 0, False, False))
            continue
        gold = gold_passages(q, passages, articles_dir) if q.kind != "none" else set()
        scored = [{**passages[r.doc].to_dict(), "score": r.score, "doc": r.doc} for r in ranked]
        close = close_alternatives(scored, q.query) if semantic == "english" else []
        in_chips = bool(close) and any(item["doc"] in gold for item in scored[:1] + close)
        rows.append((q, confidence_features(index, query, ranked, 0), int(ranked[0].doc in gold), bool(close), in_chips))
    return rows


def main(argv=None):
    from quality import load_splits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", nargs="?", default=str(DEFAULT_QUERIES))
    parser.add_argument("--out-of-scope", default=str(DEFAULT_OUT_OF_SCOPE))
    parser.add_argument("--realistic", default=str(DEFAULT_REALISTIC))
    parser.add_argument("--lexical", action="store_true", help="calibrate lexical-only ranking (no embeddings)")
    args = parser.parse_args(argv)
    embedder = None if args.lexical else load_embedder()
    queries_path = Path(args.queries)
    articles_dir = queries_path.parent / "articles"
    in_scope = load_queries(queries_path)
    out_scope = load_queries(args.out_of_scope)
    realistic = load_splits(args.realistic) if args.realistic else {}
    tuning, held = realistic.get("tuning", []), realistic.get("held-apart", [])
    articles = sorted({q.article for q in in_scope + tuning})
    half = {a for i, a in enumerate(articles) if i % 2 == 0}

    with tempfile.TemporaryDirectory() as tmp:
        index_sources([articles_dir], tmp, embedder=embedder)
        index = Index.load(tmp)
        settings = AnswerSettings(embedder=embedder)
        rows = collect(index, in_scope + out_scope, articles_dir, settings)
        tuning_rows = collect(index, tuning, articles_dir, settings)
        held_rows = collect(index, held, articles_dir, settings)

    def arrays(chosen):
        chosen = [r for r in chosen if r[1] is not None]
        return np.array([r[1] for r in chosen]).reshape(-1, len(CONFIDENCE_FEATURES)), np.array([r[2] for r in chosen], dtype=float)

    def split(part):
        return arrays([r for n, r in enumerate(rows + tuning_rows) if
                       ((r[0].article in half) if r[0].kind != "none" else (n % 2 == 0)) == part])

    xa, ya = split(True)
    xb, yb = split(False)
    wa, wb = fit_logistic(xa, ya), fit_logistic(xb, yb)
    print("fitted on half A, checked on half B:")
    print("\n".join(reliability(predict(xb, wa), yb)))
    x = np.vstack([xa, xb])
    y = np.concatenate([ya, yb])
    w = fit_logistic(x, y)
    print("\nfitted on everything:")
    print("\n".join(reliability(predict(x, w), y)))
    if held_rows:
        xh, yh = arrays(held_rows)
        print(f"\nthat fit, on the held-apart readers' questions ({len(held_rows)}):")
        print("\n".join(reliability(predict(xh, w), yh)))
    print("\nCONFIDENCE_FEATURES =", CONFIDENCE_FEATURES)
    print(("LEXICAL" if embedder is None else "SEMANTIC") + "_WEIGHTS = (" + ", ".join(f"{v:.3f}" for v in w) + ")")

    def outcomes(chosen, weights_of):
        conf = np.array([predict(np.array([r[1]]), weights_of(n, r))[0] if r[1] is not None else 0.0
                         for n, r in enumerate(chosen)])
        cosine = np.array([r[1][CONFIDENCE_FEATURES.index("cosine")] if r[1] is not None else -1.0 for r in chosen])
        right, unsure, in_chips = (np.array([r[i] for r in chosen], dtype=bool) for i in (2, 3, 4))
        return conf, cosine, right, unsure, in_chips, np.array([r[0].kind == "none" for r in chosen])

    def out_of_fold(n, r):  # as split() cuts the halves
        in_a = (r[0].article in half) if r[0].kind != "none" else (n % 2 == 0)
        return wb if in_a else wa

    # Threshold trade-off (questions with no candidate are never answered).
    dev = outcomes(rows, out_of_fold)
    real = outcomes(held_rows, lambda n, r: w) if held_rows else None
    # Higher cosine floors too: an off-topic gate apart from the confidence (docs/quality.md).
    floors = (None,) if embedder is None else (None, DEFAULT_MIN_COSINE, 0.3, 0.35, 0.4)
    print("\n| min_confidence | min_cosine | dev in-scope: right shown | wrong shown | unsure (chips) | right in chips "
          "| none | off-topic refused | held-apart readers: right | wrong | unsure |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for floor in floors:
        for t in (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
            cells = []
            for conf, cosine, right, unsure, in_chips, is_oos in filter(None, (dev, real)):
                confident = (conf >= t) & (cosine >= floor if floor is not None else True)
                shown, chips = confident & ~unsure, confident & unsure
                cells.append(((right & shown)[~is_oos].mean(), (~right & shown)[~is_oos].mean(),
                              chips[~is_oos].mean(), (in_chips & chips)[~is_oos].sum() / max(chips[~is_oos].sum(), 1),
                              (~confident)[~is_oos].mean(), (~confident)[is_oos].mean() if is_oos.any() else 0.0))
            d = cells[0]
            line = (f"| {t:.2f} | {floor if floor is not None else '-'} | {d[0]:.3f} | {d[1]:.3f} | {d[2]:.3f} | "
                    f"{d[3]:.2f} | {d[4]:.3f} | {d[5]:.3f} |")
            if len(cells) > 1:
                line += f" {cells[1][0]:.3f} | {cells[1][1]:.3f} | {cells[1][2]:.3f} |"
            print(line)


if __name__ == "__main__":
    main()
