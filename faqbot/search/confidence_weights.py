"""The confidence model's weights: one set per way a question is ranked and, for lexical ranking,
per language family or language (search.answer.confidence computes P(answer) from them)."""

from __future__ import annotations

from ..text.analyze import WORD_TABLE_LANGUAGE
from ..text.languages import BIGRAM_LANGUAGES

# Logistic model of P(the passage answers the question) from the features below, fitted on the
# dev set, the tuning half of tests/data/realistic_faq.jsonl and out-of-scope questions by
# benchmarks/calibrate.py (see docs/quality.md). The cosines to an FAQ pair's question and to its
# question with the answer are features of their own, beside the lexical question coverage;
# one_term: the passage holds exactly one of the question's terms (computed outside English only);
# question_margin and cosine_gap compare the passage with the best one of another question (a
# copy of the same FAQ question on another page is no competitor); lexical_first and dense_first
# say whether BM25 alone and the vectors alone rank it first; known_share is the share of the
# question's terms the index has. Features beyond one_term are 0 below the first rank.
# One set of weights for lexical-only ranking, one for semantic ranking (cosines are 0 without it).
# The lexical weights are those fitted before the five last features: refitted with them
# (calibrate.py --lexical), out of fold they did no better (docs/quality.md).
CONFIDENCE_FEATURES = ("bias", "body_coverage", "question_coverage", "score_ratio", "margin", "cosine",
                       "question_cosine", "pair_cosine", "one_term", "question_margin", "cosine_gap",
                       "lexical_first", "dense_first", "known_share", "phrase_coverage")
LEXICAL_WEIGHTS = (-2.075, 3.482, 0.157, -0.940, 2.857, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
SEMANTIC_WEIGHTS = (-6.124, 1.455, -0.146, -0.273, 1.800, 1.395, 1.734, 1.724, 0.0, 1.811, 1.846, 1.571, 0.381,
                    1.715, 0.0)
# Every other spaced language (ranked lexically), fitted by benchmarks/calibrate_languages.py on the
# multilingual dev sets and the "fit" off-topic questions (de es ar hi vi; docs/languages.md): a
# passage matching only one question word is rarely the answer, nor one holding the question's words
# apart (phrase_coverage: search/phrases.py). Held-out refusal el 85 -> 95%, tr 90 -> 97.5%.
OTHER_LEXICAL_WEIGHTS = (-4.717, 1.777, -0.413, -0.555, 1.893, 0.0, 0.0, 0.0, -2.790, 1.893, 0.0, 0.0, 0.0, 4.692,
                         2.933)
# The languages reranked by the multilingual model (E5_LANGUAGES), fitted with its cosines and
# phrase_coverage by calibrate_languages.py --semantic --off-topic-share 0.6 (at 0.3 held-out refusal
# fell: es 92.5% -> 87.5%, ru 96% -> 88%). Against the weights fitted lexically before phrase_coverage,
# right answers shown ar 0.953 -> 0.966, de 0.915 -> 0.945, de-faq 0.169 -> 0.310; held-out refusal
# the same but es 92.5% -> 90.0% (docs/languages.md).
OTHER_SEMANTIC_WEIGHTS = (-11.784, 1.145, -1.068, 0.166, 2.091, 2.548, 2.464, 2.641, -1.843, 2.091, 1.197, 1.813,
                          1.664, 4.456, 1.614)
# Languages analysed in character bigrams (BIGRAM_LANGUAGES): the weights fitted before phrase_coverage.
# Refitted on Thai and Chinese (calibrate_languages.py --bigram) Thai refused 65% of its held-out
# off-topic questions instead of 7.5%, but Chinese showed 2.2 points fewer right answers: not adopted.
BIGRAM_LEXICAL_WEIGHTS = (-1.020, 6.206, -0.150, -1.932, 2.129, 0.0, 0.0, 0.0, -4.219, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
# Languages with weights of their own, fitted on that language alone (calibrate_languages.py
# --language CODE --off-topic-share 0.6; docs/languages.md). Thai: its bigrams are pieces of words in
# unspaced text, so an off-topic question finds most of them in some long passage; bigrams standing
# together as in the question (phrase_coverage) tell them apart: held-out off-topic refused 7.5% ->
# 92.5%, right answers given 98.7% either way. Vietnamese (its syllables are words' pieces too):
# 70.0% -> 87.5%, right answers shown 0.974 either way.
OWN_LEXICAL_WEIGHTS = {
    "th": (-5.304, 1.704, 0.0, 1.425, 1.719, 0.0, 0.0, 0.0, -0.774, 1.719, 0.0, 0.0, 0.0, 0.236, 6.633),
    "vi": (-4.928, 3.022, 0.0, 0.254, 0.528, 0.0, 0.0, 0.0, -2.062, 0.528, 0.0, 0.0, 0.0, 2.707, 3.589),
}


def confidence_weights(model: str, language: str) -> tuple[float, ...]:
    """The confidence model's weights for a question ranked by model (rank_passages: "english",
    "multilingual" or "" for lexical ranking alone) and analysed in language."""
    if model:
        return SEMANTIC_WEIGHTS if model == "english" else OTHER_SEMANTIC_WEIGHTS
    if language == WORD_TABLE_LANGUAGE:
        return LEXICAL_WEIGHTS
    if language in OWN_LEXICAL_WEIGHTS:
        return OWN_LEXICAL_WEIGHTS[language]
    return BIGRAM_LEXICAL_WEIGHTS if language in BIGRAM_LANGUAGES else OTHER_LEXICAL_WEIGHTS
