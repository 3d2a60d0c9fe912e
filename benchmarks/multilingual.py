"""Answer quality in every language: faqbot beside plain BM25 baselines on the same passages, one run.

    python benchmarks/multilingual.py [--sets de,zh,...] [--mixed] [--detection] [--misses N]

Sets: each language folder of ../shared/eval-multilingual/ (XQuAD, 11 languages), its de-faq/
(German FAQ pages) and ../shared/eval/ (English). Per set: faqbot with default settings (semantic
reranking where configured and installed: all-MiniLM-L6-v2 for English, multilingual-e5-small for
the languages of embed_e5.E5_LANGUAGES), faqbot lexical only, rank-bm25 on whitespace tokens,
and bm25s (Lucene BM25) with the language's Snowball stemmer (PyStemmer) and bm25s's stopword
list where it has one; for Chinese, Japanese, Korean and Thai, bm25s over character bigrams.
--mixed also indexes the English and German dev articles together and counts how often the
first passage is in the question's language. --detection measures the language detector.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.quality import passage_text, rank_bm25_ranker  # noqa: E402
from faqbot.config import load_settings  # noqa: E402
from faqbot.search.answer import AnswerSettings  # noqa: E402
from faqbot.index.embed import load_embedder  # noqa: E402
from faqbot.ops.evaluate import answer_ranker, evaluate, load_queries  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402

# ../shared beside the repository (a worktree sits one level deeper).
SHARED = next((d for d in (REPO.parent / "shared", REPO.parent.parent / "shared") if d.exists()), REPO.parent / "shared")
MULTI = SHARED / "eval-multilingual"
BIGRAM_LANGS = {"zh", "th", "ja", "ko"}
SNOWBALL = {"ar": "arabic", "de": "german", "el": "greek", "es": "spanish", "hi": "hindi", "ro": "romanian",
            "ru": "russian", "tr": "turkish", "en": "english", "fr": "french", "it": "italian", "pt": "portuguese",
            "nl": "dutch"}
BM25S_STOPWORDS = {"en", "de", "nl", "fr", "es", "pt", "it", "ru", "sv", "no", "zh", "tr", "ko", "da"}


def char_bigrams(text: str) -> list[str]:
    """Lucene-CJK style tokens: overlapping character pairs of each run of letters, digits and marks."""
    import regex

    out = []
    for run in regex.findall(r"[\p{L}\p{N}\p{M}]+", text.lower()):
        out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    return out


def bm25s_ranker(passages, lang: str):
    """bm25s with lang's Snowball stemmer and stopwords, or over character bigrams for unspaced scripts."""
    import bm25s
    import Stemmer

    retriever = bm25s.BM25()
    texts = [passage_text(p) for p in passages]
    if lang in BIGRAM_LANGS:
        retriever.index([char_bigrams(t) for t in texts], show_progress=False)

        def tokens(question):
            return [[t for t in char_bigrams(question)]]
    else:
        stemmer = Stemmer.Stemmer(SNOWBALL[lang]) if lang in SNOWBALL else None
        stop = lang if lang in BM25S_STOPWORDS else None
        retriever.index(bm25s.tokenize(texts, stopwords=stop, stemmer=stemmer, show_progress=False), show_progress=False)

        def tokens(question):
            return bm25s.tokenize([question], stopwords=stop, stemmer=stemmer, show_progress=False, return_ids=False)

    def rank(question):
        query = tokens(question)
        if not query or not query[0]:
            return [], True
        docs, scores = retriever.retrieve(query, k=min(10, len(passages)), show_progress=False)
        return [int(d) for d, s in zip(docs[0], scores[0]) if s > 0], True

    return rank


def sets(names: list[str] | None) -> list[tuple[str, str, Path]]:
    """(name, language, queries.jsonl) of each evaluation set."""
    found = [(d.name, "de" if d.name == "de-faq" else d.name, d / "queries.jsonl")
             for d in sorted(MULTI.iterdir()) if (d / "queries.jsonl").exists()]
    found.append(("en (eval)", "en", SHARED / "eval" / "queries.jsonl"))
    return [s for s in found if not names or s[0] in names or s[0].split()[0] in names]


def off_topic(lang: str, part: str = "fit") -> list:
    """The project's own off-topic questions in lang (tests/data), [] when there are none.

    part: "fit" (the ones confidence models were fitted with) or "heldout" (never fitted on).
    """
    name = "out_of_scope" + ("" if lang == "en" else f"_{lang}") + ("_heldout" if part == "heldout" else "")
    path = REPO / "tests" / "data" / f"{name}.jsonl"
    return load_queries(path) if path.exists() else []


def run_set(name, lang, queries_path, embedder, settings) -> list[tuple[str, dict]]:
    articles = queries_path.parent / "articles"
    queries = load_queries(queries_path)
    extra = off_topic(lang) if name != "de-faq" else []
    held = off_topic(lang, "heldout") if name != "de-faq" else []
    with tempfile.TemporaryDirectory() as tmp:
        index_sources([articles], tmp, embedder=embedder)
        index = Index.load(tmp)
        passages = [index.passage(i) for i in range(index.n_passages)]
        lexical = replace(AnswerSettings.configured(settings), embedder=None, multilingual=None)
        default = replace(AnswerSettings.configured(settings), embedder=embedder)
        if embedder is None:
            default = lexical
        rows = [("faqbot lexical only", evaluate(answer_ranker(index, lexical), queries + extra, passages, articles))]
        if embedder is not None:
            rows.insert(0, ("faqbot default", evaluate(answer_ranker(index, default), queries + extra, passages, articles)))
        else:
            rows.insert(0, ("faqbot default", rows[0][1]))
        if held:
            rows[0][1]["heldout"] = evaluate(answer_ranker(index, default), held, passages, articles)["no_answer"]
        rows.append(("rank-bm25 whitespace", evaluate(rank_bm25_ranker(passages), queries, passages, articles)))
        rows.append(("bm25s " + ("bigrams" if lang in BIGRAM_LANGS else "stem+stop"),
                     evaluate(bm25s_ranker(passages, lang), queries, passages, articles)))
    return rows


def mixed(embedder, settings) -> None:
    """The English and German dev articles in one index: is the first passage in the question's language?"""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        src, flat = Path(tmp) / "src", Path(tmp) / "flat"  # flat: the same files named by article id, for gold
        flat.mkdir()
        for lang, folder in (("en", SHARED / "eval" / "articles"), ("de", MULTI / "de" / "articles")):
            shutil.copytree(folder, src / lang)
            for path in folder.iterdir():
                shutil.copy(path, flat / f"{lang}-{path.name}")
        index_sources([src], Path(tmp) / "index", embedder=embedder)
        index = Index.load(Path(tmp) / "index")
        passages = [index.passage(i) for i in range(index.n_passages)]
        print(f"\nmixed index: {index.n_passages} passages, languages {index.languages}")
        print("| questions | faqbot | Hit@1 | MRR@10 | first passage in the question's language |")
        print("|---|---|---|---|---|")
        for lang, queries_path in (("en", SHARED / "eval" / "queries.jsonl"), ("de", MULTI / "de" / "queries.jsonl")):
            queries = [replace(q, article=f"{lang}-{q.article}") for q in load_queries(queries_path)]
            for label, answer_settings in (("lexical", replace(AnswerSettings.configured(settings), embedder=None,
                                                               multilingual=None)),
                                           ("default", replace(AnswerSettings.configured(settings), embedder=embedder))):
                if label == "default" and embedder is None:
                    continue
                ranker = answer_ranker(index, answer_settings)
                same = []

                def counting(question, ranker=ranker, same=same):
                    ranked, answered = ranker(question)
                    if ranked:
                        same.append(passages[ranked[0]].article.startswith(lang + "-"))
                    return ranked, answered

                report = evaluate(counting, queries, passages, flat)
                o = report["overall"]
                print(f"| {lang} ({len(queries)}) | {label} | {o['hit@1']:.3f} | {o['mrr@10']:.3f} | "
                      f"{sum(same) / max(len(same), 1):.3f} |")


def detection() -> None:
    """Accuracy of the detector on the dev questions and paragraphs, and its time per question."""
    from faqbot.text.detect import detect, load_detector

    load_detector()
    print("\n| language | questions right | paragraphs right |")
    print("|---|---|---|")
    times = []
    for name, lang, queries_path in sets(None):
        if name == "de-faq":
            continue
        questions = [q.query for q in load_queries(queries_path)]
        right = 0
        for q in questions:
            started = time.perf_counter()
            right += detect(q)[0] == lang
            times.append(time.perf_counter() - started)
        paragraphs = []
        for path in sorted((queries_path.parent / "articles").glob("*.md")):
            body = path.read_text(encoding="utf-8").split("---", 2)[-1]
            paragraphs += [p for p in body.split("\n\n") if len(p.strip()) > 40]
        para_right = sum(detect(p)[0] == lang for p in paragraphs)
        print(f"| {name} | {right}/{len(questions)} | {para_right}/{len(paragraphs)} |")
    ms = np.array(times) * 1000
    print(f"\ndetection per question: p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms "
          f"({len(ms)} questions)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", help="comma-separated set names (default: all)")
    parser.add_argument("--mixed", action="store_true", help="also the mixed English + German index")
    parser.add_argument("--detection", action="store_true", help="also the language detector's accuracy and time")
    parser.add_argument("--misses", type=int, default=0, help="print this many of faqbot's misses per set")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    settings = load_settings()
    embedder = load_embedder() if settings.semantic else None
    from faqbot.index.embed_e5 import E5_LANGUAGES, load_e5_embedder

    multilingual = embedder is not None and load_e5_embedder() is not None
    print(f"semantic reranking: {'on' if embedder is not None else 'off'}; multilingual model "
          f"{'on for ' + ', '.join(sorted(E5_LANGUAGES)) if multilingual else 'off'}\n")
    print("| set | faqbot default H@1 / MRR | faqbot lexical H@1 / MRR | rank-bm25 H@1 / MRR | bm25s H@1 / MRR | "
          "default - best baseline | default: in-scope answered (right answer given), off-topic refused (fit / held-out) |")
    print("|---|---|---|---|---|---|---|")
    figures = {}
    for name, lang, path in sets(args.sets.split(",") if args.sets else None):
        rows = run_set(name, lang, path, embedder, settings)
        cells = [f"{r['overall']['hit@1']:.3f} / {r['overall']['mrr@10']:.3f}" for _, r in rows]
        best = max(r["overall"]["hit@1"] for _, r in rows[2:])
        gap = rows[0][1]["overall"]["hit@1"] - best
        default = rows[0][1]
        parts = [default.get("no_answer"), default.get("heldout")]
        refused = " / ".join(f"{r['recall']:.1%} of {r['out_of_scope']}" if r else "-" for r in parts) if any(parts) else "-"
        o = default["overall"]
        print(f"| {name} | {' | '.join(cells)} | {gap:+.3f} | {o['answered']:.1%} ({o['answered_hit@1']:.1%}), {refused} |",
              flush=True)
        figures[name] = {label: {k: r["overall"][k] for k in ("hit@1", "mrr@10")} for label, r in rows}
        for miss in rows[0][1]["misses"][: args.misses]:
            print(f"    MISS {miss['question']!r} -> {(miss['first'] or '')[:70]!r} rank={miss['rank']}")
    if args.mixed:
        mixed(embedder, settings)
    if args.detection:
        detection()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
