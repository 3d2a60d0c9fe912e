"""The HTTP API (Flask app factory) and the pages it serves."""

from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Blueprint, Flask, Request, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from . import admin_auth, limits, openapi, reindex
from ..search.answer import AnswerSettings
from ..search.semantic import has_vectors
from ..index.vectors import E5_SPACE
from ..config import Settings, load_settings
from ..errors import ApiError, BadQuestion, FaqbotError, error_body
from .live import LiveIndex
from ..ops.qlog import QuestionLog
from .pages import pages
from .ask_request import MAX_BODY_BYTES, answer_request, unicode_problem
from .fast_ask import FastAsk
from .report_page import report_page


api = Blueprint("api", __name__)


def _live() -> LiveIndex:
    return current_app.extensions["faqbot.live"]


def _settings() -> Settings:
    return current_app.extensions["faqbot.settings"]


def _index():
    index = _live().current()
    if index is None:
        raise ApiError(_live().last_error or "No index yet. Run `faqbot index` first.", 503)
    g.faqbot_index_version = index.version  # sent back as X-Faqbot-Index-Version (faqbot.serve.reindex)
    return index


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested too deeply for the parser (RecursionError) read as invalid JSON."""

    def loads(self, s, **kwargs):
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("it is nested too deeply") from None


class ApiRequest(Request):
    """Flask's request, with a JSON body that does not parse answered as a 400 JSON error."""

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            return super().on_json_loading_failed(e)
        raise ApiError(f"The request body is not valid JSON ({e}).")


def _parse_json_body() -> None:
    """before_request: a JSON body that does not parse is a 400 here, before any view sees it."""
    if request.is_json and request.get_data(cache=True):  # over the size limit: 413 from get_data
        request.get_json()  # parsed once and cached for the view; ApiRequest raises the 400


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    problem = unicode_problem(data)
    if problem:
        raise ApiError(problem)
    return data


@api.post("/api/ask")
def api_ask():
    """Answer a question: {question, top_k?, lang?} -> {question, answer, results, took_ms, lang, terms}."""
    data = _json_body()
    try:
        return jsonify(answer_request(current_app.extensions, _index(), data))
    except BadQuestion as err:
        raise ApiError(str(err)) from None


@api.post("/api/feedback")
def api_feedback():
    """Store a reader's "Was this helpful?" answer: {question, passage_id, helpful} -> 204."""
    data = _json_body()
    question, passage_id, helpful = data.get("question"), data.get("passage_id"), data.get("helpful")
    if not isinstance(question, str) or not question.strip() or len(question) > 1000:
        raise ApiError("'question' must be a non-empty string of at most 1000 characters.")
    if not isinstance(passage_id, str) or not passage_id or len(passage_id) > 300:
        raise ApiError("'passage_id' must be a passage id string.")
    if not isinstance(helpful, bool):
        raise ApiError("'helpful' must be true or false.")
    if not _index().has_passage(passage_id):
        raise ApiError(f"No passage {passage_id[:80]!r} in the index: give the id of a result /api/ask returned.", 404)
    log = current_app.extensions.get("faqbot.log")
    if log is not None:
        log.record_feedback(question.strip(), passage_id, helpful)
    return "", 204


@api.get("/api/starters")
def api_starters():
    """A few FAQ questions from different articles, for the widget's starter chips."""
    limit = request.args.get("limit", "4")
    if not limit.isdecimal() or not 1 <= int(limit) <= 20:
        raise ApiError("'limit' must be an integer from 1 to 20.")
    index = _index()
    picked, seen_articles = [], set()
    faq_ids = index.faq_ids()
    for rounds in (True, False):  # first one question per article, then fill up
        for doc in faq_ids:
            passage = index.passage(int(doc))
            if (rounds and passage.article in seen_articles) or any(p["id"] == passage.id for p in picked):
                continue
            seen_articles.add(passage.article)
            picked.append({"id": passage.id, "question": passage.question})
            if len(picked) == int(limit):
                return jsonify({"questions": picked})
    return jsonify({"questions": picked})


@api.get("/api/health")
def api_health():
    """Index counts and build time."""
    index = _index()
    counts = index.manifest["counts"]
    return jsonify({
        "status": "ok",
        "articles": counts["articles"],
        "passages": counts["passages"],
        "faq_pairs": counts["faq_pairs"],
        "built_at": index.manifest["built_at"],
        "version": index.version,
    })


def _origin_allowed(origin: str, settings: Settings) -> bool:
    """Same origin, any localhost port, or a configured origin (FAQBOT_ALLOWED_ORIGINS)."""
    from urllib.parse import urlsplit

    if origin.rstrip("/") == request.host_url.rstrip("/"):
        return True
    host = urlsplit(origin).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in settings.allowed_origins} or "*" in settings.allowed_origins


def _warm_index(index) -> None:
    """Ready a newly loaded index version before it serves (LiveIndex calls it on every load):
    the compiled search kernel is loaded (from numba's disk cache) and run once on its arrays."""
    from ..search import dense
    from ..search.lexical import warm_up

    warm_up(index)
    dense.warm_up(index)


def _warm_up(live: LiveIndex, settings) -> None:
    """Load the index, the stemmer and the embedding buffers now, so the first reader waits for none of them."""
    from ..text.analyze import analyze, load_stemmer

    load_stemmer()
    analyze("warm up")
    if settings.embedder is not None:
        settings.embedder.encode(["How long does it take for a typical question of about this length to be answered here?"])
    index = live.current()
    if settings.multilingual is not None and index is not None and has_vectors(index, E5_SPACE):
        # The multilingual model loads at its first use (1-2 s): here, when the index has its vectors.
        e5 = settings.multilingual.get()
        if e5 is not None:
            e5.encode_query(["Wie lange dauert es, bis eine typische Frage dieser Länge hier beantwortet wird?"])


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; tests and embedders pass overrides such as {"index_dir": ...}."""
    settings = load_settings(overrides)
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.request_class = ApiRequest
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    app.extensions["faqbot.settings"] = settings
    app.extensions["faqbot.live"] = LiveIndex(settings.index_dir, on_load=_warm_index)
    app.extensions["faqbot.answer_settings"] = answer_settings = AnswerSettings.configured(settings)
    _warm_up(app.extensions["faqbot.live"], answer_settings)
    if settings.log_questions:
        app.extensions["faqbot.log"] = QuestionLog(settings.question_log_path, settings.log_retention_days)
    app.register_blueprint(api)
    admin_auth.install(app, settings)
    app.register_blueprint(report_page)  # GET /admin/report (off without admin_token)
    limits.install(app, settings)
    app.before_request(_parse_json_body)  # after the rate limit: a bad body is counted too
    openapi.install(app)
    reindex.install(app, settings)  # POST /api/reindex, GET /api/reindex/status, X-Faqbot-Index-Version
    app.register_blueprint(pages)  # the demo page and the widget's files
    app.wsgi_app = limits.trust_proxies(FastAsk(app, app.wsgi_app), settings.trust_proxy)

    @app.after_request
    def cors(response):
        origin = request.headers.get("Origin")
        if origin and request.path.startswith("/api/") and _origin_allowed(origin, settings):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        response.headers.add("Vary", "Origin")
        return response

    # Every error an API request meets is answered here, as JSON error_body() with its status.
    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return jsonify(error_body(str(err))), err.status, err.headers

    @app.errorhandler(FaqbotError)
    def faqbot_error(err: FaqbotError):
        return jsonify(error_body(str(err))), 503

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/api/"):
            message = {413: f"The request body is too large (limit {MAX_BODY_BYTES // 1024} KiB)."}.get(
                err.code, err.description or err.name)
            return jsonify(error_body(message)), err.code
        return err

    return app
