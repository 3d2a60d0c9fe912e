"""Where the semantic ranking misses FAQ questions, and what other score mixes would gain, on the dev set.

    python benchmarks/ranking_study.py [QUERIES.jsonl] [--realistic FILE] [--sentences] [--misses N]

1. Misses: every FAQ paraphrase whose first passage is wrong, with the right FAQ question, the one
   chosen, the right one's rank in the answer, in BM25's order and in the vectors' order, and
   whether it was among the candidates at all (BM25's top RERANK_DEPTH and the RERANK_DEPTH
   nearest vectors): a right passage missing from the candidates needs better retrieval, one
   present but out-ranked a better score.
2. Candidate recall: how often the right passage is among BM25's top k and the k nearest vectors.
3. Score mixes: a linear score over a set of features per candidate (normalised BM25, the
   question-field BM25, the two cosines, optionally answer-sentence cosines), fitted by listwise
   logistic loss on half the articles (the dev set and the readers' tuning half) and scored on the
   other half, and the reverse: Hit@1 out of fold, beside the default mix on the same candidates.
   The readers' held-apart half is scored by the fit on everything.

--sentences also embeds each passage's sentences (its question with each sentence of the answer, and
each sentence alone) for two more features: the best cosine of the question to them.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.index.embed import load_embedder  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.ops.evaluate import gold_passages, load_queries  # noqa: E402
from faqbot.search.answer import AnswerSettings, rank_passages  # noqa: E402
from faqbot.search.lexical import lexical_scores  # noqa: E402
from faqbot.search.semantic import QUESTION_SHARE, RERANK_DEPTH, SEMANTIC_WEIGHT  # noqa: E402

DEFAULT_QUERIES = REPO.parent / "shared" / "eval" / "queries.jsonl"
DEFAULT_REALISTIC = REPO / "tests" / "data" / "realistic_faq.jsonl"
FEATURE_SETS = (("bm25", "question_cosine", "pair_cosine"),
                ("bm25", "question_bm25", "question_cosine", "pair_cosine"),
                ("bm25", "question_bm25", "question_cosine", "pair_cosine", "faq"))
SENTENCE_SETS = (("bm25", "question_cosine", "pair_cosine", "sentence_cosine"),
                 ("bm25", "question_cosine", "pair_cosine", "question_sentence_cosine"))


@dataclass
class Scores:
    """Per question (rows) and passage (columns): what a score mix can be made of."""

    bm25: np.ndarray  # the body + question-field BM25 that search ranks by
    question_bm25: np.ndarray  # the FAQ question field's part of it
    question_cosine: np.ndarray  # cosine to an FAQ pair's question vector (a paragraph's text)
    pair_cosine: np.ndarray  # cosine to the question-with-answer vector (a paragraph's text)
    extra: dict[str, np.ndarray]


def sentences(text: str) -> list[str]:
    """A passage's sentences (split after . ! ? before a capital or digit); the text when it has none."""
    parts = [s.strip() for s in re.split(r'(?<=[.!?])\s+(?=[A-Z0-9"(])', text) if len(s.strip()) > 3]
    return parts or [text]


def best_by_owner(similarity: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """(questions, pieces) similarities -> (questions, n): the best piece of each owner (-1 without one)."""
    out = np.full((similarity.shape[0], n), -1.0)
    for column, who in enumerate(owner.tolist()):
        np.maximum(out[:, who], similarity[:, column], out=out[:, who])
    return out


def score_matrix(index: Index, embedder, questions: list[str], with_sentences: bool = False) -> Scores:
    """Every passage's BM25 and cosines for every question (the vectors the index stores)."""
    n = index.n_passages
    everything = AnswerSettings(embedder=embedder, rerank_depth=n)
    shape = (len(questions), n)
    bm25, question_bm25, cq, ca = (np.zeros(shape) for _ in range(4))
    docs = np.arange(n)
    for row, question in enumerate(questions):
        query, ranked, _ = rank_passages(index, question, n, everything)
        for item in ranked:
            bm25[row, item.doc], cq[row, item.doc], ca[row, item.doc] = item.bm25, item.question_cosine, item.pair_cosine
        question_bm25[row] = lexical_scores(index, query, docs, {"question": 1.0})
    extra = {}
    if with_sentences:
        vectors = embedder.encode(questions)
        passages = [index.passage(i) for i in range(n)]
        pieces = [(i, s) for i, p in enumerate(passages) for s in sentences(p.text)]
        owner = np.array([i for i, _ in pieces])
        alone = embedder.encode_passages([s for _, s in pieces])
        asked = embedder.encode_passages([f"{passages[i].question or ''} {s}".strip() for i, s in pieces])
        extra["sentence_cosine"] = best_by_owner(vectors @ alone.T, owner, n)
        extra["question_sentence_cosine"] = best_by_owner(vectors @ asked.T, owner, n)
    return Scores(bm25, question_bm25, cq, ca, extra)


def candidates(scores: Scores, row: int, depth: int = RERANK_DEPTH) -> np.ndarray:
    """What hybrid_rank scores: BM25's top depth (with a match) and the depth nearest vectors, ties by passage order."""
    n = scores.bm25.shape[1]
    bm25 = scores.bm25[row]
    lexical = [d for d in np.lexsort((np.arange(n), -bm25))[:depth].tolist() if bm25[d] > 0]
    near = np.lexsort((np.arange(n), -np.maximum(scores.question_cosine[row], scores.pair_cosine[row])))[:depth]
    return np.array(list(dict.fromkeys(lexical + near.tolist())), dtype=np.int64)


def features(scores: Scores, row: int, docs: np.ndarray, names: tuple[str, ...], faq: np.ndarray) -> np.ndarray:
    """(candidates, features): BM25 scores divided by the candidates' best BM25, cosines as they are."""
    best = scores.bm25[row, docs].max() or 1.0
    columns = {"bm25": scores.bm25[row, docs] / best, "question_bm25": scores.question_bm25[row, docs] / best,
               "question_cosine": scores.question_cosine[row, docs], "pair_cosine": scores.pair_cosine[row, docs],
               "faq": faq[docs].astype(float), **{k: v[row, docs] for k, v in scores.extra.items()}}
    return np.stack([columns[name] for name in names], axis=1)


def default_mix(x: np.ndarray) -> np.ndarray:
    """faqbot's score over features (bm25, question_cosine, pair_cosine): faqbot.search.semantic.hybrid_rank's."""
    return (1 - SEMANTIC_WEIGHT) * x[:, 0] + SEMANTIC_WEIGHT * (QUESTION_SHARE * x[:, 1] + (1 - QUESTION_SHARE) * x[:, 2])


def fit_listwise(lists: list[tuple[np.ndarray, np.ndarray]], l2: float = 0.01, steps: int = 300,
                 rate: float = 0.5) -> np.ndarray:
    """Weights of a linear score maximising the softmax probability of the right candidates.

    lists: (features (candidates, k), right (candidates,) bool) per question with a right candidate.
    """
    w = np.zeros(lists[0][0].shape[1])
    for _ in range(steps):
        grad = l2 * w
        for x, right in lists:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad = grad + (x.T @ p - x[right].mean(0)) / len(lists)
        w -= rate * grad
    return w


def linear(w: np.ndarray):
    """features -> features @ w."""
    return lambda x: x @ w


def first_right(lists: list[tuple[object, np.ndarray, np.ndarray]], score_for) -> float:
    """Share of questions whose best-scored candidate (ties: the earlier candidate) is right.

    lists: (question, features, right) per question; score_for(question) -> (features -> scores).
    """
    return float(np.mean([right[int(np.argmax(score_for(q)(x)))] for q, x, right in lists])) if lists else 0.0


def article_halves(articles: list[str]) -> set[str]:
    """Half A of the articles: those at even positions in sorted order (as benchmarks/calibrate.py cuts them)."""
    return {a for i, a in enumerate(sorted(set(articles))) if i % 2 == 0}


def rank_of(order: list[int], gold: set[int]) -> int | None:
    """1-based position of the first right passage in order (None when absent)."""
    return next((r for r, d in enumerate(order, 1) if d in gold), None)


def main(argv=None):
    from quality import load_splits

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", nargs="?", default=str(DEFAULT_QUERIES))
    parser.add_argument("--realistic", default=str(DEFAULT_REALISTIC))
    parser.add_argument("--sentences", action="store_true", help="also answer-sentence cosines (embeds every sentence)")
    parser.add_argument("--misses", type=int, default=1000, help="print at most this many FAQ misses")
    args = parser.parse_args(argv)
    embedder = load_embedder()
    if embedder is None:
        sys.exit("the embedding model is not installed (see docs/semantic.md)")
    queries_path = Path(args.queries)
    articles_dir = queries_path.parent / "articles"
    dev = [q for q in load_queries(queries_path) if q.kind != "none"]
    realistic = load_splits(args.realistic) if args.realistic else {}
    parts = [("dev", q) for q in dev] + [(split, q) for split, qs in realistic.items() for q in qs]

    with tempfile.TemporaryDirectory() as tmp:
        index_sources([articles_dir], tmp, embedder=embedder)
        index = Index.load(tmp)
        passages = [index.passage(i) for i in range(index.n_passages)]
        faq = np.array([p.kind == "faq" for p in passages])
        scores = score_matrix(index, embedder, [q.query for _, q in parts], args.sentences)
        golds = [gold_passages(q, passages, articles_dir) for _, q in parts]
        answers = [[r.doc for r in rank_passages(index, q.query, 10, AnswerSettings(embedder=embedder))[1]]
                   for part, q in parts if part == "dev" and q.kind == "faq"]

    # 1. Misses on the dev FAQ paraphrases.
    n = len(passages)
    faq_rows = [i for i, (part, q) in enumerate(parts) if part == "dev" and q.kind == "faq"]
    print(f"## FAQ paraphrases missed ({len(faq_rows)} asked)\n")
    print("| question | right FAQ question (page) | chosen (page) | right one's rank: answer / BM25 / vectors | candidate |")
    print("|---|---|---|---|---|")
    tally = {"out-ranked": 0, "not a candidate": 0, "other page": 0, "same page": 0, "at rank 2": 0}
    shown = 0
    for row, order in zip(faq_rows, answers):
        gold = golds[row]
        if order and order[0] in gold:
            continue
        bm25_order = np.lexsort((np.arange(n), -scores.bm25[row])).tolist()
        dense_order = np.lexsort((np.arange(n), -np.maximum(scores.question_cosine[row], scores.pair_cosine[row]))).tolist()
        present = bool(gold & set(candidates(scores, row).tolist()))
        tally["out-ranked" if present else "not a candidate"] += 1
        right, chosen = passages[min(gold)], passages[order[0]] if order else None
        tally["same page" if chosen and chosen.article == right.article else "other page"] += 1
        tally["at rank 2"] += rank_of(order, gold) == 2
        if shown < args.misses:
            shown += 1
            print(f"| {parts[row][1].query} | {right.question} ({right.article[8:40]}) | "
                  f"{(chosen.question or chosen.text[:60]) if chosen else '-'} ({chosen.article[8:40] if chosen else ''}) | "
                  f"{rank_of(order, gold) or '>10'} / {rank_of(bm25_order, gold)} / {rank_of(dense_order, gold)} | "
                  f"{'yes' if present else 'no'} |")
    print("\n" + ", ".join(f"{k}: {v}" for k, v in tally.items()))

    # 2. Candidate recall.
    print("\n## Right passage among the candidates (BM25 top k + k nearest vectors)\n")
    print("| k | dev FAQ | dev paragraphs | readers' questions |")
    print("|---|---|---|---|")
    groups = {"dev FAQ": faq_rows, "dev paragraphs": [i for i, (p, q) in enumerate(parts) if p == "dev" and q.kind != "faq"],
              "readers'": [i for i, (p, _) in enumerate(parts) if p != "dev"]}
    for k in (1, 3, 10, RERANK_DEPTH):
        cells = [np.mean([bool(golds[i] & set(candidates(scores, i, k).tolist())) for i in rows]) if rows else 0.0
                 for rows in groups.values()]
        print(f"| {k} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")

    # 3. Score mixes, fitted on half the articles and scored on the other.
    half = article_halves([q.article for part, q in parts if part in ("dev", "tuning")])
    print("\n## Linear score mixes, Hit@1 out of fold (split by article); held-apart readers by the fit on everything\n")
    print("| features | dev | dev FAQ | dev paragraphs | readers' tuning | readers' held-apart | weights (fit on everything) |")
    print("|---|---|---|---|---|---|---|")
    sets = FEATURE_SETS + (SENTENCE_SETS if args.sentences else ())
    for names in (("default mix",),) + sets:
        cols = ("bm25", "question_cosine", "pair_cosine") if names == ("default mix",) else names
        lists = {}
        for i, (part, q) in enumerate(parts):
            docs = candidates(scores, i)
            right = np.array([d in golds[i] for d in docs.tolist()])
            if len(docs):
                lists.setdefault(part, []).append((q, features(scores, i, docs, cols, faq), right))
        fit_on = [(q, x, r) for p in ("dev", "tuning") for q, x, r in lists.get(p, []) if r.any()]
        if names == ("default mix",):
            def out_of_fold(q):
                return default_mix
            on_everything = out_of_fold
            weights = f"{1 - SEMANTIC_WEIGHT:.2f} / {SEMANTIC_WEIGHT * QUESTION_SHARE:.3f} / {SEMANTIC_WEIGHT * (1 - QUESTION_SHARE):.3f}"
        else:
            w_a = fit_listwise([(x, r) for q, x, r in fit_on if q.article in half])
            w_b = fit_listwise([(x, r) for q, x, r in fit_on if q.article not in half])
            w_all = fit_listwise([(x, r) for _, x, r in fit_on])

            def out_of_fold(q, w_a=w_a, w_b=w_b):
                return linear(w_b if q.article in half else w_a)

            def on_everything(q, w_all=w_all):
                return linear(w_all)
            weights = " / ".join(f"{v:.2f}" for v in w_all)
        dev_rows = lists.get("dev", [])
        cells = [first_right(dev_rows, out_of_fold), first_right([t for t in dev_rows if t[0].kind == "faq"], out_of_fold),
                 first_right([t for t in dev_rows if t[0].kind != "faq"], out_of_fold),
                 first_right(lists.get("tuning", []), out_of_fold), first_right(lists.get("held-apart", []), on_everything)]
        print(f"| {', '.join(names)} | " + " | ".join(f"{c:.3f}" for c in cells) + f" | {weights} |")


if __name__ == "__main__":
    main()
