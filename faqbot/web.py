"""The HTTP API (Flask app factory) and the pages it serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from flask import Blueprint, Flask, current_app, g, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from . import limits, openapi, reindex
from .answer import ask
from .config import Settings, load_settings
from .errors import BadQuestion, FaqbotError
from .live import LiveIndex
from .qlog import QuestionLog
from .report_page import report_page

_PACKAGED_WEB = Path(__file__).resolve().parent / "_web"  # where a wheel install puts web/
WEB_DIR = _PACKAGED_WEB if _PACKAGED_WEB.is_dir() else Path(__file__).resolve().parent.parent / "web"
MAX_BODY_BYTES = 16 * 1024

api = Blueprint("api", __name__)


def _live() -> LiveIndex:
    return current_app.extensions["faqbot.live"]


def _settings() -> Settings:
    return current_app.extensions["faqbot.settings"]


class ApiError(Exception):
    """An error answered as JSON {"error": sentence} with a status code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _index():
    index = _live().current()
    if index is None:
        raise ApiError(_live().last_error or "No index yet. Run `faqbot index` first.", 503)
    g.faqbot_index_version = index.version  # sent back as X-Faqbot-Index-Version (faqbot.reindex)
    return index


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    try:  # JSON may escape lone surrogates ("\ud800"), which no UTF-8 store or analyzer accepts
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError("The request body must be valid Unicode text (it has a lone surrogate escape).") from None
    return data


@api.post("/api/ask")
def api_ask():
    """Answer a question: {question, top_k?} -> {question, answer, results, took_ms}."""
    data = _json_body()
    settings = _settings()
    try:
        response = ask(_index(), data.get("question"), data.get("top_k", settings.top_k),
                       current_app.extensions["faqbot.answer_settings"])
    except BadQuestion as err:
        raise ApiError(str(err)) from None
    log = current_app.extensions.get("faqbot.log")
    if log is not None:
        log.record_question(response["question"], response)
    return jsonify(response)


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


def _warm_up(live: LiveIndex, settings) -> None:
    """Load the index, the stemmer and the embedding buffers now, so the first reader waits for none of them."""
    from .analyze import analyze

    analyze("warm up")
    if settings.embedder is not None:
        settings.embedder.encode(["How long does it take for a typical question of about this length to be answered here?"])
    live.current()


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; tests and embedders pass overrides such as {"index_dir": ...}."""
    settings = load_settings(overrides)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    app.extensions["faqbot.settings"] = settings
    app.extensions["faqbot.live"] = LiveIndex(settings.index_dir)
    app.extensions["faqbot.answer_settings"] = answer_settings = settings.answer_settings()
    _warm_up(app.extensions["faqbot.live"], answer_settings)
    if settings.log_questions:
        app.extensions["faqbot.log"] = QuestionLog(settings.question_log_path, settings.log_retention_days)
    app.register_blueprint(api)
    app.register_blueprint(report_page)  # GET /admin/report (off without admin_token)
    limits.install(app, settings)
    openapi.install(app)
    reindex.install(app, settings)  # POST /api/reindex, GET /api/reindex/status, X-Faqbot-Index-Version

    @app.get("/")
    def home():
        return send_from_directory(WEB_DIR, "index.html")

    @app.get("/articles/open-source-ai-must-win")
    def demo_article():
        # The demo page is this sample article, so answer links from it land on the passage.
        return send_from_directory(WEB_DIR, "index.html")

    @app.get("/widget.js")
    def widget_js():
        return send_from_directory(WEB_DIR, "widget.js", max_age=300)

    @app.get("/widget.css")
    def widget_css():
        return send_from_directory(WEB_DIR, "widget.css", max_age=300)

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

    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return jsonify({"error": str(err)}), err.status

    @app.errorhandler(FaqbotError)
    def faqbot_error(err: FaqbotError):
        return jsonify({"error": str(err)}), 503

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/api/"):
            message = {413: f"The request body is too large (limit {MAX_BODY_BYTES // 1024} KiB)."}.get(
                err.code, err.description or err.name)
            return jsonify({"error": message}), err.code
        return err

    return app
