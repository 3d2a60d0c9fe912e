"""The HTTP API (Flask app factory) and the pages it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Blueprint, Flask, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from .answer import AnswerSettings, ask
from .config import Settings, load_settings
from .errors import BadQuestion, FaqbotError
from .live import LiveIndex

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
    return index


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    return data


@api.post("/api/ask")
def api_ask():
    """Answer a question: {question, top_k?} -> {question, answer, results, took_ms}."""
    data = _json_body()
    settings = _settings()
    try:
        return jsonify(ask(_index(), data.get("question"), data.get("top_k", settings.top_k),
                           AnswerSettings(min_confidence=settings.min_confidence)))
    except BadQuestion as err:
        raise ApiError(str(err)) from None


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


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; tests and embedders pass overrides such as {"index_dir": ...}."""
    settings = load_settings(overrides)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False
    app.extensions["faqbot.settings"] = settings
    app.extensions["faqbot.live"] = LiveIndex(settings.index_dir)
    app.register_blueprint(api)

    @app.get("/")
    def home():
        return send_from_directory(WEB_DIR, "index.html")

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
