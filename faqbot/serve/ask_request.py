"""A request to ask: the checks a JSON body passes and the answer with its question logged, shared by
the Flask views (faqbot.serve.web) and the fast path (faqbot.serve.fast_ask)."""

from __future__ import annotations

import json

from ..search.answer import ask

MAX_BODY_BYTES = 16 * 1024


def unicode_problem(data: dict) -> str | None:
    """Why a parsed body cannot be stored as UTF-8 text (a lone surrogate escape: "\ud800"), or None."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "The request body must be valid Unicode text (it has a lone surrogate escape)."
    except RecursionError:
        return "The request body is not valid JSON: it is nested too deeply."
    return None


def answer_request(extensions: dict, index, data: dict) -> dict:
    """ask() for a request body, and the question logged (raises BadQuestion)."""
    response = ask(index, data.get("question"), data.get("top_k", extensions["faqbot.settings"].top_k),
                   extensions["faqbot.answer_settings"], data.get("lang"))
    log = extensions.get("faqbot.log")
    if log is not None:
        log.record_question(response["question"], response)
    return response
