"""The pages and files the app serves beside the API: the demo page and the chat widget (web/)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

_PACKAGED_WEB = Path(__file__).resolve().parents[1] / "_web"  # where a wheel install puts web/
WEB_DIR = _PACKAGED_WEB if _PACKAGED_WEB.is_dir() else Path(__file__).resolve().parents[2] / "web"

pages = Blueprint("pages", __name__)


@pages.get("/")
def home():
    return send_from_directory(WEB_DIR, "index.html")


@pages.get("/articles/open-source-ai-must-win")
def demo_article():
    # The demo page is this sample article, so answer links from it land on the passage.
    return send_from_directory(WEB_DIR, "index.html")


@pages.get("/widget.js")
def widget_js():
    return send_from_directory(WEB_DIR, "widget.js", max_age=300)


@pages.get("/widget.css")
def widget_css():
    return send_from_directory(WEB_DIR, "widget.css", max_age=300)
