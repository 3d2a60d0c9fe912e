"""GET /api/openapi.json: an OpenAPI 3.0 description of the JSON API, kept true by tests/test_hardening.py."""

from __future__ import annotations

from flask import Flask, jsonify

from .. import __version__
from ..search.answer import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


_ADMIN_LOCKED = {
    **_error("Too many wrong admin tokens from this address this minute (5); even the right one waits."),
    "headers": {"Retry-After": {"description": "Seconds until the address may try again.",
                                "schema": {"type": "integer", "minimum": 1}}},
}
_RATE_LIMITED = {
    **_error("Too many requests from this client this minute (the `rate_limit` setting)."),
    "headers": {"Retry-After": {"description": "Seconds until the client may retry.",
                                "schema": {"type": "integer", "minimum": 1}}},
}
_NO_INDEX = _error("No index has been built yet, or it cannot be loaded.")
_BAD = _error("Bad input: the message says what to change.")
_TOO_LARGE = _error("The request body is over 16 KiB.")
_JOBS_DOWN = _error("The job database (the question log) cannot be reached.")

_QUESTION = {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS, "pattern": r"\S",
             "description": "Leading and trailing white space is ignored."}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "A sentence for a person."}},
    },
    "Passage": {
        "type": "object",
        "required": ["id", "kind", "text", "question", "title", "section", "url", "link", "score", "confidence"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "description": "<article-id>#<n>, stable while the article is unchanged."},
            "kind": {"type": "string", "enum": ["faq", "paragraph", "term"]},
            "text": {"type": "string", "description": "The answer of an FAQ pair, or the paragraph."},
            "question": {"type": "string", "nullable": True, "description": "The FAQ question; null for paragraphs."},
            "title": {"type": "string"},
            "section": {"type": "string"},
            "url": {"type": "string", "description": "The article's URL."},
            "link": {"type": "string", "description": "Deep link to the passage (#heading-id or #:~:text=...)."},
            "score": {"type": "number", "description": "Ranking score; 0 for suggestions that did not match."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "Estimated probability that the passage answers the question."},
        },
    },
    "AskRequest": {
        "type": "object",
        "required": ["question"],
        "properties": {
            "question": _QUESTION,
            "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": DEFAULT_TOP_K},
            "lang": {"type": "string", "maxLength": 35, "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
                     "example": "de",
                     "description": "The question's language as a BCP 47 tag (\"de\", \"pt-BR\"; the widget sends its "
                                    "page's <html lang>). Without it: an index of one language analyses the question "
                                    "in that language; an index of several detects it, and when unsure searches in "
                                    "each and merges the results."},
        },
    },
    "Answer": {
        "type": "object",
        "required": ["question", "answer", "results", "took_ms"],
        "additionalProperties": False,
        "properties": {
            "question": {"type": "string", "description": "The question as searched (stripped)."},
            "answer": {"allOf": [{"$ref": "#/components/schemas/Passage"}], "nullable": True,
                       "description": "The best passage, or null when none is confident enough."},
            "results": {"type": "array", "maxItems": MAX_TOP_K, "items": {"$ref": "#/components/schemas/Passage"},
                        "description": "top_k passages, best first; unmatched suggestions at score 0 fill up."},
            "did_you_mean": {"type": "array", "maxItems": 2, "items": {"$ref": "#/components/schemas/Passage"},
                             "description": "Other FAQ pairs (other questions) that scored nearly as well as the "
                                            "first result. Empty when it is clear or no passage is confident."},
            "uncertain": {"type": "boolean",
                          "description": "True when the question is as close to other FAQ questions (did_you_mean) "
                                         "as to the first result's: answer is then null, and a client offers the "
                                         "first result's question and did_you_mean's as choices."},
            "took_ms": {"type": "number", "minimum": 0},
            "lang": {"type": "string", "description": "The language the question was analysed in (a language code)."},
            "terms": {"type": "array", "items": {"type": "string"},
                      "description": "Words of the first result (lowercase) that match the question's terms "
                                     "in that language's analysis: what a client highlights."},
        },
    },
    "Feedback": {
        "type": "object",
        "required": ["question", "passage_id", "helpful"],
        "properties": {
            "question": _QUESTION,
            "passage_id": {"type": "string", "minLength": 1, "maxLength": 300},
            "helpful": {"type": "boolean"},
        },
    },
    "Starters": {
        "type": "object",
        "required": ["questions"],
        "additionalProperties": False,
        "properties": {"questions": {"type": "array", "maxItems": 20, "items": {
            "type": "object", "required": ["id", "question"], "additionalProperties": False,
            "properties": {"id": {"type": "string"}, "question": {"type": "string"}},
        }}},
    },
    "ReindexJob": {
        "type": "object",
        "required": ["job", "state"],
        "properties": {
            "job": {"type": "string", "nullable": True},
            "state": {"type": "string", "enum": ["none", "running", "done", "failed"]},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "articles", "passages", "faq_pairs", "built_at", "version"],
        "additionalProperties": False,
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "articles": {"type": "integer", "minimum": 0},
            "passages": {"type": "integer", "minimum": 0},
            "faq_pairs": {"type": "integer", "minimum": 0},
            "built_at": {"type": "string", "description": "ISO 8601 build time (UTC)."},
            "version": {"type": "string", "description": "The published index version."},
        },
    },
}


def spec() -> dict:
    """The OpenAPI 3.0 document for every /api endpoint."""
    json_body = lambda schema: {"required": True, "content": {"application/json": {  # noqa: E731
        "schema": {"$ref": f"#/components/schemas/{schema}"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "faqbot API", "version": __version__,
                 "description": "Answers readers' questions from indexed articles. Every error is JSON "
                                "{\"error\": sentence}; other methods on these paths get 405, unknown paths 404."},
        "paths": {
            "/api/ask": {"post": {
                "operationId": "ask",
                "summary": "Answer a question",
                "requestBody": json_body("AskRequest"),
                "responses": {"200": _json("The answer (or null) and the top passages.", "Answer"),
                              "400": _BAD, "413": _TOO_LARGE, "429": _RATE_LIMITED, "503": _NO_INDEX},
            }},
            "/api/feedback": {"post": {
                "operationId": "feedback",
                "summary": "Record whether an answer helped",
                "requestBody": json_body("Feedback"),
                "responses": {"204": {"description": "Recorded."},
                              "400": _BAD, "404": _error("No passage with that id in the index."),
                              "413": _TOO_LARGE, "429": _RATE_LIMITED, "503": _NO_INDEX},
            }},
            "/api/starters": {"get": {
                "operationId": "starters",
                "summary": "FAQ questions from different articles, for starter chips",
                "parameters": [{"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 4}}],
                "responses": {"200": _json("Up to `limit` questions.", "Starters"), "400": _BAD, "503": _NO_INDEX},
            }},
            "/api/health": {"get": {
                "operationId": "health",
                "summary": "Index counts and version",
                "responses": {"200": _json("The index being served.", "Health"), "503": _NO_INDEX},
            }},
            "/api/reindex": {"post": {
                "operationId": "reindex",
                "summary": "Re-index the configured sources in a process of its own, one at a time across replicas (admin)",
                "security": [{"adminToken": []}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"full": {"type": "boolean", "default": False}}}}}},
                "responses": {"202": _json("The job that started.", "ReindexJob"), "400": _BAD,
                              "401": _error("No admin token sent."), "403": _error("Wrong admin token."),
                              "404": _error("The admin API is off (no admin_token)."),
                              "409": _error("A re-index is already running."), "413": _TOO_LARGE,
                              "429": _ADMIN_LOCKED, "503": _JOBS_DOWN},
            }},
            "/api/reindex/status": {"get": {
                "operationId": "reindexStatus",
                "summary": "The last re-index job (admin)",
                "security": [{"adminToken": []}],
                "responses": {"200": _json("The last job, or state \"none\".", "ReindexJob"),
                              "401": _error("No admin token sent."), "403": _error("Wrong admin token."),
                              "404": _error("The admin API is off (no admin_token)."), "429": _ADMIN_LOCKED,
                              "503": _JOBS_DOWN},
            }},
            "/api/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.0 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
        },
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "adminToken": {"type": "http", "scheme": "bearer", "description": "The admin_token setting."}}},
    }


def install(app: Flask) -> None:
    """Serve the document at GET /api/openapi.json, listing the paths this app routes."""

    def openapi_document():
        document = app.extensions.get("faqbot.openapi")
        if document is None:  # built on first use: every blueprint is registered by then
            routed = {rule.rule for rule in app.url_map.iter_rules()}
            document = spec()
            document["paths"] = {path: ops for path, ops in document["paths"].items() if path in routed}
            app.extensions["faqbot.openapi"] = document
        return jsonify(document)

    app.add_url_rule("/api/openapi.json", "openapi", openapi_document, methods=["GET"])
