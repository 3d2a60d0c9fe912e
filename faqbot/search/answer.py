"""Ranked passages -> the answer: confidence for each result, and no answer below the threshold."""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import mul
from typing import NamedTuple

import numpy as np

from ..config import BY_NAME, LANGUAGE_TAG, default
from ..errors import BadQuestion
from ..index.store import Index
from ..index.bm25 import K1
from ..text.analyze import WORD_TABLE_LANGUAGE, token, word_tokens, words
from ..text.detect import question_languages
from ..text.languages import language_code
from . import kernel
from .lexical import Hit, Query, best_passages, search, term_weights
from .phrases import passage_phrase_coverage
from .confidence_weights import CONFIDENCE_FEATURES, confidence_weights
from .spelling import correct
from .semantic import QUESTION_SHARE, RERANK_DEPTH, SEMANTIC_WEIGHT, has_vectors, hybrid_rank
from ..index.embed_e5 import E5_LANGUAGES
from ..index.vectors import E5_SPACE

MAX_QUESTION_CHARS = 1000
# Defaults and ranges come from the settings table (faqbot/config.py).
MAX_TOP_K = int(BY_NAME["top_k"].high)
DEFAULT_TOP_K = default("top_k")
DEFAULT_MIN_CONFIDENCE = default("min_confidence")  # chosen on the dev set: see docs/quality.md
# With semantic ranking, no answer below this confidence either: chosen on the dev set, out of fold,
# as the lowest that refuses 90% of the out-of-scope questions (0.50: 0.898; docs/quality.md).
DEFAULT_SEMANTIC_MIN_CONFIDENCE = default("semantic_min_confidence")
# With semantic reranking, a passage whose meaning is this far from the question is never the
# answer, whatever its word overlap ("thanks!" matching a passage that says "thanks").
DEFAULT_MIN_COSINE = default("min_cosine")
# The languages the English sentence model (all-MiniLM-L6-v2) reranks, from benchmarks/multilingual.py on
# the dev sets with the hybrid ranking: it lowered German Hit@1 from 0.936 to 0.804 and Spanish from
# 0.957 to 0.821 (Greek and Russian too, before): elsewhere lexical ranking alone.
SEMANTIC_LANGUAGES = frozenset({"english"})
# The multilingual model (multilingual-e5-small, index/embed_e5.py) reranks E5_LANGUAGES. Its cosines
# lie close together (0.75-0.9): BM25's share decides more than beside MiniLM's. On paragraphs
# (XQuAD, factual questions in the passage's words) 0.9 of cosine did best; FAQ pairs, which
# readers paraphrase, want more (de-faq Hit@1 at 0.9 / 0.95 / 0.97 / 1.0: 0.380 / 0.437 / 0.493 /
# 0.592), so they get E5_FAQ_WEIGHT on the same scale (semantic.hybrid_rank). docs/languages.md.
E5_SEMANTIC_WEIGHT = 0.9
E5_FAQ_WEIGHT = 0.97
E5_QUESTION_SHARE = 0.3

# When the best passage is an FAQ pair and other FAQ pairs (other questions) score within this share
# of its score, the question is ambiguous between them: no single answer is given (response field
# uncertain) and they are offered as "did you mean" (did_you_mean). On the dev set, out of fold, 69%
# of the first passages so close to another question were wrong (docs/quality.md: confidence).
DID_YOU_MEAN_MARGIN = 0.03
# Unknown question terms are read as an indexed term one edit away (faqbot.search.spelling; docs/semantic.md).
SPELLING_TOLERANCE = True
# Only in English: its alphabet is a-z, and in the multilingual dev sets it read valid words of small
# indexes as typos of others (Spanish "cuánto" -> "cuarta", "gracias" -> "glaciar"), answering
# off-topic questions (Spanish refusal 82.5% -> 92.5% without it; docs/languages.md).
SPELLING_LANGUAGES = frozenset({"english"})
MAX_ALTERNATIVES = 2



@dataclass(frozen=True)
class AnswerSettings:
    """Knobs of the answer step (from configuration); embedder None means lexical ranking only."""

    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    embedder: object | None = None
    multilingual: object | None = None  # embed_e5.LazyE5: the model of E5_LANGUAGES, loaded when first needed
    semantic_weight: float = SEMANTIC_WEIGHT
    rerank_depth: int = RERANK_DEPTH
    min_cosine: float = DEFAULT_MIN_COSINE
    semantic_min_confidence: float = DEFAULT_SEMANTIC_MIN_CONFIDENCE
    question_share: float = QUESTION_SHARE

    @classmethod
    def configured(cls, settings) -> "AnswerSettings":
        """From configuration (faqbot.config.Settings), with the embedding model loaded when semantic ranking is on."""
        from ..index.embed_e5 import configured_e5
        from ..index.vectors import configured_embedder

        return cls(
            min_confidence=settings.min_confidence,
            embedder=configured_embedder(settings),
            multilingual=configured_e5(settings),
            semantic_weight=settings.semantic_weight,
            rerank_depth=settings.rerank_depth,
            min_cosine=settings.min_cosine,
            semantic_min_confidence=settings.semantic_min_confidence,
        )


def check_question(question: object) -> str:
    """Return the question stripped, or raise BadQuestion with a sentence for the user."""
    if not isinstance(question, str):
        raise BadQuestion("'question' must be a string.")
    question = question.strip()
    if not question:
        raise BadQuestion("The question is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"The question is too long ({len(question)} characters; the limit is {MAX_QUESTION_CHARS}).")
    return question


def check_lang(lang: object) -> str | None:
    """Return a BCP 47 language tag ("de", "pt-BR") or None, or raise BadQuestion."""
    if lang is None or lang == "":
        return None
    if not isinstance(lang, str) or len(lang) > 35 or not LANGUAGE_TAG.fullmatch(lang.strip()):
        raise BadQuestion("'lang' must be a BCP 47 language tag such as \"de\" or \"pt-BR\".")
    return lang.strip()


def check_top_k(top_k: object) -> int:
    """Return top_k as an int in 1..50, or raise BadQuestion."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise BadQuestion(f"'top_k' must be an integer from 1 to {MAX_TOP_K}.")
    return top_k


class Ranked(NamedTuple):
    """A passage in the final order, with what its confidence is computed from (a named tuple: made
    for every result of every question, where a frozen dataclass cost 1-2 µs each)."""

    doc: int
    score: float  # the ranking score: BM25, or the semantic mix when reranked
    bm25: float
    cosine: float = 0.0  # the better of the two below (0 without semantic ranking)
    question_cosine: float = 0.0  # to the FAQ question's vector
    pair_cosine: float = 0.0  # to the question-with-answer vector
    lexical_first: bool = False  # BM25's best passage
    dense_first: bool = False  # the passage whose vectors are nearest the question's


def coverage(index: Index, query: Query, docs: np.ndarray, field: str = "body",
             matched: np.ndarray | None = None) -> np.ndarray:
    """search.term_coverage for several passages at once: one binary search per query term, not per passage.

    Share of the query's idf weight that occurs in each passage (unknown terms weigh the most);
    the sums run in the same order as term_coverage's, so the values are identical. matched, when
    given, gets each passage's count of distinct query terms added.
    """
    postings = index.fields[field]
    unknown_idf = math.log((max(index.n_passages, 1) + 0.5) / 0.5)
    kernels = kernel.loaded()
    if kernels is not None:  # the same loop compiled: a tenth of the numpy calls' cost for a few passages
        term_ids = np.fromiter((-1 if i is None else i for i in map(query.ids.__getitem__, query.terms)),
                               np.int64, len(query.terms))
        found, hits = kernels.coverage(postings.indptr, postings.docs, postings.idf, term_ids, unknown_idf,
                                       np.asarray(docs, dtype=np.int64))
        if matched is not None:
            matched += hits
        return found
    ids = [query.ids[term] for term in query.terms]
    known = np.array([i for i in ids if i is not None], dtype=np.int64)
    idfs = iter(postings.idf[known].tolist())
    bounds = iter(zip(postings.indptr[known].tolist(), postings.indptr[known + 1].tolist()))
    total = 0.0
    found = np.zeros(len(docs))
    for term_id in ids:
        if term_id is None:
            total += unknown_idf
            continue
        idf = next(idfs)
        idf = idf if idf > 0 else 0.01
        total += idf
        lo, hi = next(bounds)
        if hi > lo:
            row = postings.docs[lo:hi]
            hit = row.take(row.searchsorted(docs), mode="clip") == docs
            found += hit * idf
            if matched is not None:
                matched += hit
    return found / total if total else found


# Features that compare with another question's passage: reading its text costs about a tenth of
# a lexical ask(), so they are skipped (left 0) for weights that give them 0.
_OTHER_QUESTION_FEATURES = (CONFIDENCE_FEATURES.index("question_margin"), CONFIDENCE_FEATURES.index("cosine_gap"))
_PHRASE_FEATURE = CONFIDENCE_FEATURES.index("phrase_coverage")  # reads and analyses the first passage


def feature_rows(index: Index, query: Query, ranked: list[Ranked],
                 weights: tuple[float, ...] | None = None) -> list[list[float]]:
    """confidence_features for every ranked passage (what ask() scores), computed in one pass.

    weights: the model they are scored with, when known; features it weighs 0 and that cost a
    passage read are then left at 0 (the confidences are the same).
    """
    if not ranked:
        return []
    docs = np.fromiter((r.doc for r in ranked), dtype=np.int64, count=len(ranked))
    # one_term weighs only outside English (LEXICAL_ and SEMANTIC_WEIGHTS give it 0): not counted there.
    matched = np.zeros(len(docs)) if query.language != WORD_TABLE_LANGUAGE else None
    body = coverage(index, query, docs, "body", matched).tolist()
    single = (matched == 1).tolist() if matched is not None else [False] * len(ranked)
    faq = index.kinds[docs].astype(bool)
    question = [0.0] * len(ranked)
    if faq.any():
        for i, value in zip(np.flatnonzero(faq).tolist(), coverage(index, query, docs[faq], "question").tolist()):
            question[i] = value
    best_possible = _best_possible(index, query)
    known_share = len(query.known) / len(query.terms) if query.terms else 0.0
    phrases = (passage_phrase_coverage(index, query.sequence, query.language, ranked[0].doc)
               if weights is None or weights[_PHRASE_FEATURE] else 0.0)
    rows = []
    for rank, item in enumerate(ranked):
        margin = question_margin = cosine_gap = 0.0
        if rank == 0 and item.score:
            runner_up = ranked[1].score if len(ranked) > 1 else 0.0
            margin = (item.score - runner_up) / abs(item.score)
            if weights is None or any(weights[i] for i in _OTHER_QUESTION_FEATURES):
                other = _other_question(index, ranked)
                question_margin = (item.score - other.score) / abs(item.score) if other else 1.0
                cosine_gap = item.cosine - (other.cosine if other else 0.0)
        rows.append([1.0, body[rank], question[rank], min(item.bm25 / best_possible, 2.0),
                     max(min(margin, 1.0), 0.0), item.cosine, item.question_cosine, item.pair_cosine,
                     float(single[rank]), max(min(question_margin, 1.0), 0.0), cosine_gap,
                     float(item.lexical_first), float(item.dense_first), known_share if rank == 0 else 0.0,
                     phrases if rank == 0 else 0.0])
    return rows


def _question_key(index: Index, doc: int) -> str:
    """What makes passages the same answer: an FAQ pair's question words (pages repeat FAQ
    pairs), else the passage itself."""
    if not index.kinds[doc]:
        return f"#{doc}"
    return " ".join(words(index.passage(doc).question or ""))


def _other_question(index: Index, ranked: list[Ranked]) -> Ranked | None:
    """The best ranked passage after the first that is not the same question as the first."""
    first = _question_key(index, ranked[0].doc)
    return next((item for item in ranked[1:] if _question_key(index, item.doc) != first), None)


def confidence_features(index: Index, query: Query, ranked: list[Ranked], rank: int) -> list[float]:
    """Features of ranked[rank] that predict whether it answers the question (see CONFIDENCE_FEATURES)."""
    return feature_rows(index, query, ranked)[rank]


def confidence(features: list[float], weights: tuple[float, ...]) -> float:
    """Estimated probability in [0, 1] that the passage answers the question."""
    z = sum(map(mul, weights, features))  # the products summed in order, as a generator would, at half the cost
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def _search_languages(index: Index, question: str, depth: int, languages: list[str]) -> tuple[Query, list[Hit], str]:
    """Search in each of languages and merge: the analysis that matches its best passage best leads.

    BM25 scores of analyses in different languages are made comparable by dividing each by the
    score a passage holding every term of its analysis would reach; merged scores are on the
    leading analysis's scale, whose query the confidence features are computed from.
    """
    runs = []
    for language in languages:
        query, hits = search(index, question, depth, language)
        runs.append((_best_possible(index, query, term_weights(index, query)), query, hits, language))
    lead = max(runs, key=lambda run: run[2][0].score / run[0] if run[2] else 0.0)
    merged: dict[int, float] = {}
    for best_possible, _, hits, _ in runs:
        scale = lead[0] / best_possible
        for hit in hits:
            merged[hit.doc] = max(merged.get(hit.doc, 0.0), hit.score * scale)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:depth]
    return lead[1], [Hit(doc, score) for doc, score in ranked], lead[3]


def _best_possible(index: Index, query: Query, weights: dict[int, float] | None = None) -> float:
    """The BM25 score bound of a query: every term at its saturation (as confidence's score_ratio).

    weights: the term weights searched (search.term_weights), when not the query's own terms.
    """
    idf = index.fields["body"].idf
    return sum(c * float(idf[t]) * (K1 + 1) for t, c in (query.known if weights is None else weights).items()) or 1.0


def rank_passages(index: Index, question: str, top_k: int, settings: AnswerSettings,
                  lang: str | None = None) -> tuple[Query, list[Ranked], str]:
    """BM25 candidates, reranked semantically when an embedder and vectors are available.

    The question is analysed in lang when given, else in the index's language, else in the
    language detected among the index's (faqbot.text.detect.question_languages). Returns the query,
    the ranked passages and which model reranked them: "" (none), "english" (all-MiniLM-L6-v2) or
    "multilingual" (multilingual-e5-small, for E5_LANGUAGES).
    """
    languages = question_languages(question, index.languages, lang)
    model = _reranker(index, settings, languages[0])
    depth = max(top_k, settings.rerank_depth) if model else top_k
    if len(languages) == 1:
        query, hits = search(index, question, depth, languages[0])
        if SPELLING_TOLERANCE and languages[0] in SPELLING_LANGUAGES and len(query.known) < len(query.terms):
            fixed = correct(index, query)
            if fixed is not query:
                query, hits = fixed, best_passages(index, term_weights(index, fixed), depth)
    else:
        query, hits, language = _search_languages(index, question, depth, languages)
        model = model if _reranker(index, settings, language) == model else ""
    mix = None
    if model == "english":
        mix = (settings.embedder.encode([question])[0], settings.semantic_weight, settings.question_share, "", None)
    elif model == "multilingual":
        e5 = settings.multilingual.get()
        if e5 is None:
            model = ""
        else:
            mix = (e5.encode_query([question])[0], E5_SEMANTIC_WEIGHT, E5_QUESTION_SHARE, E5_SPACE, E5_FAQ_WEIGHT)
    if mix is None:
        ranked = [Ranked(h.doc, h.score, h.score, lexical_first=rank == 0) for rank, h in enumerate(hits)]
    else:
        vector, weight, share, space, faq_weight = mix
        ranked = [Ranked(r.doc, r.score, r.bm25, r.cosine, r.question_cosine, r.pair_cosine, r.lexical_first,
                         r.dense_first) for r in hybrid_rank(
            index, query, vector, hits, settings.rerank_depth, weight, share, space, faq_weight)]
    if len(languages) == 1 and index.passage_languages is not None:
        ranked = own_language_first(index, ranked, languages[0])
    return query, ranked[:top_k], model


def _reranker(index: Index, settings: AnswerSettings, language: str) -> str:
    """Which model reranks a question analysed in language: "english", "multilingual" or "" (none)."""
    if language in SEMANTIC_LANGUAGES and settings.embedder is not None and has_vectors(index):
        return "english"
    if language in E5_LANGUAGES and settings.multilingual is not None and has_vectors(index, E5_SPACE):
        return "multilingual"
    return ""


def own_language_first(index: Index, ranked: list[Ranked], language: str) -> list[Ranked]:
    """The passages in the question's language first, the others after them, each in their order.

    On a site that publishes an article in several languages, a question is answered in its
    own; a passage in another language is still offered when none in its own matches.
    """
    if language not in index.language_keys:
        return ranked
    own = index.language_keys.index(language)
    codes = index.passage_languages
    mine = [r for r in ranked if codes[r.doc] == own]
    return ranked if len(mine) == len(ranked) else mine + [r for r in ranked if codes[r.doc] != own]


def ask(index: Index, question: object, top_k: object = DEFAULT_TOP_K, settings: AnswerSettings = AnswerSettings(),
        lang: str | None = None) -> dict:
    """Answer a question: the API's response object {question, answer, results, took_ms}.

    lang: the question's language (a BCP 47 tag); None to use the index's or detect it.
    """
    started = time.perf_counter()
    question = check_question(question)
    top_k = check_top_k(top_k)
    lang = check_lang(lang)
    query, ranked, model = rank_passages(index, question, max(top_k, MAX_ALTERNATIVES + 1), settings, lang)
    semantic = model == "english"
    weights = confidence_weights(model, query.language)
    scored = []
    for item, features in zip(ranked, feature_rows(index, query, ranked, weights)):
        result = index.passage_dict(item.doc)
        result["score"] = round(item.score, 6)
        result["confidence"] = round(confidence(features, weights), 4)
        scored.append(result)
    ranked, results = ranked[:top_k], scored[:top_k]
    confident = bool(results) and results[0]["confidence"] >= settings.min_confidence
    if semantic and ranked and (ranked[0].cosine < settings.min_cosine
                                or results[0]["confidence"] < settings.semantic_min_confidence):
        confident = False
    # Close to another FAQ question: no single answer, the candidates are offered instead.
    close = close_alternatives(scored, question) if confident and semantic else []
    answer = results[0] if confident and not close else None
    # The first result's words only: what clients highlight, at a tenth of the cost of every result's.
    terms = matched_words(index, query, [results[0]["question"] or "", results[0]["text"]]) if results else []
    results += _suggestions(index, top_k - len(results), {r.doc for r in ranked})
    return {
        "question": question,
        "answer": answer,
        "results": results,
        "did_you_mean": close,
        "uncertain": bool(close),
        "took_ms": round((time.perf_counter() - started) * 1000, 3),
        "lang": language_code(query.language),
        "terms": terms,
    }


def close_alternatives(scored: list[dict], question: str = "") -> list[dict]:
    """Other FAQ pairs (other questions) scored within DID_YOU_MEAN_MARGIN of the best passage
    (scored[0], an FAQ pair), best first: the question is ambiguous between them ("did you mean").
    None when the question is the best passage's own FAQ question, word for word (a chip clicked)."""
    best = scored[0]
    if not best["score"] or best["kind"] != "faq":
        return []
    seen = {" ".join(words(best["question"]))}
    if " ".join(words(question)) in seen:
        return []
    out = []
    for item in scored[1:]:
        if len(out) == MAX_ALTERNATIVES or (best["score"] - item["score"]) / abs(best["score"]) > DID_YOU_MEAN_MARGIN:
            break
        key = " ".join(words(item["question"] or ""))
        if item["kind"] == "faq" and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def matched_words(index: Index, query: Query, texts: list[str]) -> list[str]:
    """The words of texts (as analyze.words gives them) whose token is one of the query's: what to highlight."""
    wanted, language = query.terms, query.language
    if not wanted:
        return []
    # One words() pass: a newline joins no words, so the words are those of each text in turn.
    seen = dict.fromkeys(words("\n".join(texts)))
    known = word_tokens(language)  # words already analysed in this process (most, in a running server)
    if language == WORD_TABLE_LANGUAGE:
        # An English token starts with its word's first letter (accents folded: "café" -> "cafe"):
        # only words so starting are analysed. Elsewhere prefixes go ("الشحن" -> "شحن").
        starts = {_base_letter(t[0]) for t in wanted}
        out = []
        for w in seen:
            first = w[0]
            if first in starts or (not first.isascii() and _base_letter(first) in starts):
                found = known.get(w)
                if (token(w, language, index.word_table) if found is None else found) in wanted:
                    out.append(w)
        return out
    return [w for w in seen if token(w, language, index.word_table) in wanted]


@lru_cache(maxsize=4096)
def _base_letter(char: str) -> str:
    return unicodedata.normalize("NFD", char)[0]


def _suggestions(index: Index, count: int, taken: set[int]) -> list[dict]:
    """Fill results up to top_k with unmatched passages (FAQ questions first) at score 0."""
    if count <= 0:
        return []
    enough = count + len(taken)
    candidates = chain(index.faq_ids()[:enough].tolist(), range(min(index.n_passages, enough)))
    picked = list(dict.fromkeys(d for d in candidates if d not in taken))[:count]
    return [{**index.passage_dict(d), "score": 0.0, "confidence": 0.0} for d in picked]
