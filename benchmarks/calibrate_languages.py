"""Fit the confidence model of languages other than English, and check it on held-out off-topic questions.

    python benchmarks/calibrate_languages.py [--threshold 0.35]

The English model (faqbot.search.confidence_weights.LEXICAL_WEIGHTS) was fitted on English sites, whose indexes
are larger: a question word found in one passage of a small foreign-language index looks like a
confident match to it ("Buenas tardes" -> a paragraph with "tarde", confidence 0.86). Here the
same features are fitted on every language of ../shared/eval-multilingual/ (in-scope: is the
first passage right?) and the "fit" off-topic questions in German and Spanish
(tests/data/out_of_scope_{de,es}.jsonl). Reported per language, English weights against the new
ones at the same threshold: in-scope right answers shown, wrong answers shown, and off-topic
refused on the fit questions and on the held-out ones (tests/data/out_of_scope_*_heldout.jsonl),
which the fit never sees. Prints the weights to put in faqbot/search/confidence_weights.py (OTHER_LEXICAL_WEIGHTS).

--semantic fits the weights of the languages the multilingual model reranks (E5_LANGUAGES;
OTHER_SEMANTIC_WEIGHTS; indexes built with its vectors). --bigram fits those of the languages
analysed in character bigrams (BIGRAM_LANGUAGES: Thai, Chinese...; BIGRAM_LEXICAL_WEIGHTS), whose
terms are pieces of words: their figures lie elsewhere than spaced languages'. Without either,
OTHER_LEXICAL_WEIGHTS on the other languages. Each is reported against the weights in use now.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.calibrate import collect, fit_logistic, predict  # noqa: E402
from benchmarks.multilingual import off_topic, sets  # noqa: E402
from faqbot.search import answer, confidence_weights  # noqa: E402
from faqbot.config import load_settings  # noqa: E402
from faqbot.ops.evaluate import load_queries  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402
from faqbot.index.embed_e5 import E5_LANGUAGES  # noqa: E402
from faqbot.text.analyze import stemmer_language  # noqa: E402
from faqbot.text.languages import BIGRAM_LANGUAGES  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=answer.DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--off-topic-share", type=float, default=0.3,
                        help="the off-topic questions' weight in the fit, as a share of the in-scope ones'")
    parser.add_argument("--language", help="fit on this language's sets alone (OWN_LEXICAL_WEIGHTS[language])")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--semantic", action="store_true",
                      help="fit OTHER_SEMANTIC_WEIGHTS: ranked with the multilingual model (E5_LANGUAGES)")
    kind.add_argument("--bigram", action="store_true",
                      help="fit BIGRAM_LEXICAL_WEIGHTS: the languages analysed in character bigrams (BIGRAM_LANGUAGES)")
    args = parser.parse_args(argv)
    settings = replace(answer.AnswerSettings.configured(load_settings({"semantic": False})), embedder=None)
    embedder = None
    if args.semantic:
        from faqbot.index.embed import load_embedder
        from faqbot.index.embed_e5 import LazyE5

        embedder, settings = load_embedder(), replace(settings, multilingual=LazyE5())
    rows = {}  # set name -> (in-scope rows, off-topic fit rows, off-topic held-out rows)
    for name, lang, queries_path in sets(None):
        if lang == "en" or (args.language and lang != args.language) or (args.semantic and stemmer_language(lang) not in E5_LANGUAGES) or (
                not args.semantic and args.bigram != (lang in BIGRAM_LANGUAGES)):
            continue
        articles = queries_path.parent / "articles"
        with tempfile.TemporaryDirectory() as tmp:
            index_sources([articles], tmp, embedder=embedder)
            index = Index.load(tmp)
            extra = name == lang  # off-topic questions against the XQuAD index of their language
            rows[name] = (collect(index, load_queries(queries_path), articles, settings),
                          collect(index, off_topic(lang, "fit"), articles, settings) if extra else [],
                          collect(index, off_topic(lang, "heldout"), articles, settings) if extra else [])
        print(f"collected {name}", file=sys.stderr, flush=True)

    # Off-topic questions are few beside the in-scope ones: each weighs as much as OFF_TOPIC_SHARE of
    # the in-scope questions together, so refusing them matters to the fit as much as answering.
    fit_in = [r for in_scope, _, _ in rows.values() for r in in_scope if r[1] is not None]
    fit_out = [r for _, oos, _ in rows.values() for r in oos if r[1] is not None]
    x = np.array([r[1] for r in fit_in + fit_out])
    y = np.array([r[2] for r in fit_in + fit_out], dtype=float)
    sample = np.concatenate([np.ones(len(fit_in)), np.full(len(fit_out), args.off_topic_share * len(fit_in) / max(len(fit_out), 1))])
    weights = fit_logistic(x, y, sample=sample)

    def shown(chosen, w):
        conf = np.array([predict(np.array([r[1]]), w)[0] if r[1] is not None else 0.0 for r in chosen])
        right = np.array([bool(r[2]) for r in chosen])
        answered = conf >= args.threshold
        return (right & answered).mean(), (~right & answered).mean(), (~answered).mean()

    own = args.language in confidence_weights.OWN_LEXICAL_WEIGHTS and not args.semantic
    target = ("OTHER_SEMANTIC_WEIGHTS" if args.semantic else f"OWN_LEXICAL_WEIGHTS[{args.language!r}]" if own
              else "BIGRAM_LEXICAL_WEIGHTS" if args.bigram else "OTHER_LEXICAL_WEIGHTS")
    old = np.array(confidence_weights.OWN_LEXICAL_WEIGHTS[args.language] if own else getattr(confidence_weights, target))
    print(f"threshold {args.threshold}; {target} in use -> fitted weights\n")
    print("| set | in-scope right shown | wrong shown | off-topic refused (fit) | off-topic refused (held-out) |")
    print("|---|---|---|---|---|")
    for name, (in_scope, oos_fit, oos_held) in rows.items():
        a, b = shown(in_scope, old), shown(in_scope, weights)
        cells = [f"{a[0]:.3f} -> {b[0]:.3f}", f"{a[1]:.3f} -> {b[1]:.3f}"]
        for oos in (oos_fit, oos_held):
            cells.append(f"{shown(oos, old)[2]:.1%} -> {shown(oos, weights)[2]:.1%} of {len(oos)}" if oos else "-")
        print(f"| {name} | {' | '.join(cells)} |")
    print("\nCONFIDENCE_FEATURES =", confidence_weights.CONFIDENCE_FEATURES)
    print(f"{target} = (" + ", ".join(f"{v:.3f}" for v in weights) + ")")


if __name__ == "__main__":
    main()
