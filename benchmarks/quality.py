"""Answer quality: faqbot beside plain BM25 baselines, on the same passages, in one run.

    python benchmarks/quality.py [QUERIES.jsonl] [--articles DIR] [--out-of-scope FILE] [--realistic FILE] [--misses N]

Baselines: rank-bm25 BM25Okapi on lowercase whitespace tokens (what a quick tutorial builds) and
bm25s (Lucene BM25, Snowball stemming, English stopwords), each indexing the passages faqbot
extracted (FAQ question + answer, or the paragraph).

--realistic adds questions typed the way readers type them (tests/data/realistic_faq.jsonl: short,
lower-case, misspelled), reported apart from the annotators' paraphrases and per "split": the
"tuning" half may be used to choose settings, the "held-apart" half (other articles) never is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dataclasses import replace  # noqa: E402

from faqbot.config import load_settings  # noqa: E402
from faqbot.search.answer import AnswerSettings  # noqa: E402
from faqbot.index.embed import load_embedder  # noqa: E402
from faqbot.ops.evaluate import answer_ranker, evaluate, load_queries  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.pipeline import load_articles, passages_of  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402

DEFAULT_QUERIES = REPO.parent / "shared" / "eval" / "queries.jsonl"
DEFAULT_OUT_OF_SCOPE = REPO / "tests" / "data" / "out_of_scope.jsonl"
DEFAULT_REALISTIC = REPO / "tests" / "data" / "realistic_faq.jsonl"


def passage_text(p) -> str:
    return f"{p.question or ''} {p.text}".strip()


def rank_bm25_ranker(passages):
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([passage_text(p).lower().split() for p in passages])

    def rank(question):
        scores = bm25.get_scores(question.lower().split())
        return list(np.argsort(-scores, kind="stable")[:10]), True

    return rank


def bm25s_ranker(passages):
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([passage_text(p) for p in passages], stopwords="en", stemmer=stemmer,
                                   show_progress=False), show_progress=False)

    def rank(question):
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return [], True
        docs, _ = retriever.retrieve(tokens, k=min(10, len(passages)), show_progress=False)
        return [int(d) for d in docs[0]], True

    return rank


def load_splits(path) -> dict[str, list]:
    """Queries of a file grouped by their "split" field (in order of first appearance)."""
    import json

    splits: dict[str, list] = {}
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for query, line in zip(load_queries(path), lines):
        splits.setdefault(json.loads(line).get("split", "all"), []).append(query)
    return splits


def answer_shares(index, settings, queries, passages, articles_dir) -> dict:
    """What readers are shown, as shares of the in-scope queries: an answer (its first passage right
    or wrong), candidate questions only (uncertain: no answer text; "in_chips" is the share of those
    whose choices hold the right passage) or no answer."""
    from faqbot.search.answer import ask
    from faqbot.ops.evaluate import gold_passages

    position = {p.id: i for i, p in enumerate(passages)}
    counts = dict.fromkeys(("right", "wrong", "unsure", "in_chips", "none"), 0)
    in_scope = [q for q in queries if q.kind != "none"]
    for q in in_scope:
        response = ask(index, q.query, 10, settings)
        gold = gold_passages(q, passages, articles_dir)
        if response["answer"]:
            counts["right" if position[response["answer"]["id"]] in gold else "wrong"] += 1
        elif response.get("uncertain"):
            counts["unsure"] += 1
            choices = response["results"][:1] + response["did_you_mean"]
            counts["in_chips"] += any(position[c["id"]] in gold for c in choices)
        else:
            counts["none"] += 1
    shares = {k: v / (len(in_scope) or 1) for k, v in counts.items()}
    shares["in_chips"] = counts["in_chips"] / (counts["unsure"] or 1)
    return shares


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", nargs="?", default=str(DEFAULT_QUERIES))
    parser.add_argument("--articles", help="articles folder [default: articles/ beside the queries]")
    parser.add_argument("--out-of-scope", default=str(DEFAULT_OUT_OF_SCOPE),
                        help="extra out-of-scope queries (gold []) for the no-answer figures; '' to skip")
    parser.add_argument("--realistic", default=str(DEFAULT_REALISTIC),
                        help="readers' own-words FAQ questions (with a 'split' field) on the same articles; '' to skip")
    parser.add_argument("--misses", type=int, default=0, help="print this many of faqbot's misses")
    args = parser.parse_args(argv)

    queries_path = Path(args.queries)
    articles_dir = Path(args.articles) if args.articles else queries_path.parent / "articles"
    queries = load_queries(queries_path)
    extra = load_queries(args.out_of_scope) if args.out_of_scope and Path(args.out_of_scope).exists() else []
    realistic = load_splits(args.realistic) if args.realistic and Path(args.realistic).exists() else {}

    settings = load_settings()
    embedder = load_embedder() if settings.semantic else None
    with tempfile.TemporaryDirectory() as tmp:
        index_sources([articles_dir], tmp, embedder=embedder)
        index = Index.load(tmp)
        passages = [index.passage(i) for i in range(index.n_passages)]
        assert [p.id for p in passages] == [p.id for p in passages_of(load_articles([articles_dir])[0])]
        lexical = replace(AnswerSettings.configured(settings), embedder=None)
        rankers = [("rank-bm25 (whitespace)", rank_bm25_ranker(passages), False),
                   ("bm25s (stem+stop)", bm25s_ranker(passages), False),
                   ("faqbot lexical only", answer_ranker(index, lexical), True)]
        rankers_settings = lexical
        if embedder is not None:
            rankers_settings = replace(lexical, embedder=embedder)
            rankers.append(("faqbot (semantic)", answer_ranker(index, rankers_settings), True))
        else:
            print("semantic reranking is off (FAQBOT_SEMANTIC=0 or model not installed)")
        rows, real_rows = [], []
        for name, ranker, ours in rankers:
            rows.append((name, evaluate(ranker, queries + (extra if ours else []), passages, articles_dir)))
            real_rows.append((name, {split: evaluate(ranker, qs, passages, articles_dir)["overall"]
                                     for split, qs in realistic.items()}))
        faqbot_report = rows[-1][1]
        shares = [(part, answer_shares(index, rankers_settings, qs, passages, articles_dir))
                  for part, qs in [("dev", queries)] + [(f"readers {s}", qs) for s, qs in realistic.items()]]

    print(f"{len(queries)} queries on {len(passages)} passages ({queries_path}); "
          f"{len(extra)} extra out-of-scope queries\n")
    header = f"| {'ranker':<24} | Hit@1 | Hit@3 | MRR@10 | FAQ Hit@1 | FAQ MRR | para Hit@1 | para MRR |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, report in rows:
        o, f, p = report["overall"], report.get("faq", {}), report.get("paragraph", {})
        print(f"| {name:<24} | {o['hit@1']:.3f} | {o['hit@3']:.3f} | {o['mrr@10']:.3f}  | "
              f"{f.get('hit@1', 0):.3f}     | {f.get('mrr@10', 0):.3f}   | {p.get('hit@1', 0):.3f}      | "
              f"{p.get('mrr@10', 0):.3f}    |")
    if realistic:
        splits = list(realistic)
        print(f"\nreaders' own words ({args.realistic}): Hit@1 / MRR@10 per split "
              + ", ".join(f"{s} {len(realistic[s])}" for s in splits) + "\n")
        print("| ranker | " + " | ".join(f"{s} Hit@1 | {s} MRR" for s in splits) + " |")
        print("|---|" + "---|---|" * len(splits))
        for name, per_split in real_rows:
            print(f"| {name} | " + " | ".join(f"{per_split[s]['hit@1']:.3f} | {per_split[s]['mrr@10']:.3f}"
                                            for s in splits) + " |")
    print("\nshown answers, of in-scope questions (right first passage shown / wrong one shown / none):")
    for name, report in rows:
        o = report["overall"]
        if "answered" in o and "no_answer" in report:
            wrong = o["answered"] - o["answered_hit@1"]
            print(f"  {name}: right {o['answered_hit@1']:.1%}, wrong {wrong:.1%}, none {1 - o['answered']:.1%}; "
                  f"off-topic refused {report['no_answer']['recall']:.1%}")
    print(f"\n{rows[-1][0]}, what readers see, of in-scope questions: an answer right / an answer wrong / "
          "no answer text but the candidate FAQ questions as choices (uncertain; how often the right one is "
          "among them) / no answer:")
    for part, sh in shares:
        print(f"  {part}: right {sh['right']:.1%}, wrong {sh['wrong']:.1%}, unsure {sh['unsure']:.1%} "
              f"(right one among the choices {sh['in_chips']:.0%}), none {sh['none']:.1%}")
    o = faqbot_report["overall"]
    print(f"\n{rows[-1][0]} with its no-answer thresholds (min_confidence {settings.min_confidence}, semantic_min_confidence "
          f"{settings.semantic_min_confidence}): answers {o['answered']:.1%} of in-scope questions, "
          f"right first passage AND answered: {o['answered_hit@1']:.3f} (vs Hit@1 {o['hit@1']:.3f} without threshold)")
    if "no_answer" in faqbot_report:
        na = faqbot_report["no_answer"]
        print(f"no-answer: precision {na['precision']:.3f}, recall {na['recall']:.3f} on {na['out_of_scope']} out-of-scope")
    if faqbot_report["unmatched_gold"]:
        print(f"warning: {len(faqbot_report['unmatched_gold'])} queries have no gold passage in the index")
    for miss in faqbot_report["misses"][: args.misses]:
        print(f"  MISS {miss['question']!r}\n     gold {miss['gold'][0][:90]!r}\n     got  {(miss['first'] or '')[:90]!r} rank={miss['rank']}")


if __name__ == "__main__":
    main()
