"""Ranked passages -> the answer: confidence for each result, and no answer below the threshold."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from .errors import BadQuestion
from .index import Index
from .bm25 import K1
from .search import Hit, Query, search, term_coverage

MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 50
DEFAULT_TOP_K = 5
DEFAULT_MIN_CONFIDENCE = 0.5

# Logistic model of P(the passage answers the question) from the features below, fitted on the
# dev set plus out-of-scope questions by benchmarks/calibrate.py (see README: quality).
CONFIDENCE_FEATURES = ("bias", "body_coverage", "question_coverage", "score_ratio", "margin")
CONFIDENCE_WEIGHTS = (-3.5, 5.0, 3.0, 0.0, 0.0)

@dataclass(frozen=True)
class AnswerSettings:
    """Knobs of the answer step (from configuration)."""

    min_confidence: float = DEFAULT_MIN_CONFIDENCE


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


def check_top_k(top_k: object) -> int:
    """Return top_k as an int in 1..50, or raise BadQuestion."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise BadQuestion(f"'top_k' must be an integer from 1 to {MAX_TOP_K}.")
    return top_k


def confidence_features(index: Index, query: Query, hits: list[Hit], rank: int) -> list[float]:
    """Features of hits[rank] that predict whether it answers the question (see CONFIDENCE_FEATURES)."""
    hit = hits[rank]
    body = term_coverage(index, query, hit.doc, "body")
    question = term_coverage(index, query, hit.doc, "question") if index.kinds[hit.doc] else 0.0
    idf = index.fields["body"].idf
    best_possible = sum(c * float(idf[t]) * (K1 + 1) for t, c in query.known.items()) or 1.0
    runner_up = hits[rank + 1].score if rank + 1 < len(hits) else 0.0
    margin = (hit.score - runner_up) / hit.score if hit.score > 0 and rank == 0 else 0.0
    return [1.0, body, question, min(hit.score / best_possible, 2.0), margin]


def confidence(features: list[float], weights: tuple[float, ...] = CONFIDENCE_WEIGHTS) -> float:
    """Estimated probability in [0, 1] that the passage answers the question."""
    z = sum(w * f for w, f in zip(weights, features))
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def ask(index: Index, question: object, top_k: object = DEFAULT_TOP_K, settings: AnswerSettings = AnswerSettings()) -> dict:
    """Answer a question: the API's response object {question, answer, results, took_ms}."""
    started = time.perf_counter()
    question = check_question(question)
    top_k = check_top_k(top_k)
    query, hits = search(index, question, top_k)
    results = []
    for rank, hit in enumerate(hits):
        results.append({**index.passage(hit.doc).to_dict(), "score": round(hit.score, 6),
                        "confidence": round(confidence(confidence_features(index, query, hits, rank)), 4)})
    answer = results[0] if results and results[0]["confidence"] >= settings.min_confidence else None
    results += _suggestions(index, top_k - len(results), {h.doc for h in hits})
    return {
        "question": question,
        "answer": answer,
        "results": results,
        "took_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def _suggestions(index: Index, count: int, taken: set[int]) -> list[dict]:
    """Fill results up to top_k with unmatched passages (FAQ questions first) at score 0."""
    if count <= 0:
        return []
    picked = []
    for doc in list(index.faq_ids()[: count + len(taken)]) + list(range(min(index.n_passages, count + len(taken)))):
        doc = int(doc)
        if doc not in taken and doc not in picked:
            picked.append(doc)
        if len(picked) == count:
            break
    return [{**index.passage(d).to_dict(), "score": 0.0, "confidence": 0.0} for d in picked]
