"""Take the report screenshot in docs/admin.md: docs/admin-report.png (1280 wide, full page).

Run from the repository root after scripts/setup-browser.sh:  python tests/browser/report_screenshot.py
It indexes the sample corpus, fills a question log with two weeks of questions really answered by
that index (some reworded, some not answered, some voted not helpful), signs in through the form
and captures /admin/report.
"""

from __future__ import annotations

import random
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DAY = 86400
TOKEN = "screenshot-admin-token"

ANSWERABLE = [
    "How far is too far to commute by bike?", "how far can I cycle to work", "what to do with a flat tire",
    "How can I keep my bike from being stolen?", "best lock for my bike", "do I need special clothes for cycling",
    "how do I water a succulent", "why are my houseplant leaves turning yellow", "how often should I repot",
    "what grind for a french press", "how do I descale my espresso machine", "what can I put in my compost",
    "why does my compost smell", "which file formats can faqbot read", "How do I update the answers after editing an article?",
]
# Reworded questions that no article answers: the report should group each set.
UNANSWERED = [
    ["how much does a subscription cost", "what is the subscription price", "How much do you charge per month?"],
    ["do you ship to Canada", "can you deliver to Canada?"],
    ["can I pay with PayPal", "do you accept PayPal payments"],
    ["is there a student discount"],
]
NOT_HELPFUL = ["best lock for my bike", "how often should I repot"]


class _Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def fill_log(log_path: Path, index, answer_settings, now: float, days: int = 14, seed: int = 7) -> None:
    """Two weeks of questions, asked through faqbot.search.answer.ask so answers and scores are real."""
    from faqbot.search.answer import ask
    from faqbot.ops.qlog import QuestionLog

    rng = random.Random(seed)
    clock = _Clock(now - days * DAY)
    log = QuestionLog(log_path, now=clock)
    cache: dict[str, dict] = {}
    for day in range(days):
        for _ in range(rng.randint(6, 14) + day // 2):
            if rng.random() < 0.28:
                question = rng.choice(rng.choice(UNANSWERED))
            else:
                question = rng.choice(ANSWERABLE)
            clock.t = now - (days - day) * DAY + rng.uniform(3600, DAY - 3600)
            response = cache.setdefault(question, ask(index, question, 5, answer_settings))
            log.record_question(question, response)
            if question in NOT_HELPFUL and response["answer"] and rng.random() < 0.7:
                log.record_feedback(question, response["answer"]["id"], False)
            elif response["answer"] and rng.random() < 0.3:
                log.record_feedback(question, response["answer"]["id"], True)


def main() -> None:
    """Serve the app over a filled log and save docs/admin-report.png."""
    import time

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from faqbot import create_app
    from faqbot.config import load_settings
    from faqbot.index.store import Index
    from faqbot.index.vectors import configured_embedder
    from faqbot.index.incremental import index_sources
    from faqbot.search.answer import AnswerSettings
    from tests.browser.conftest import ARGS, CHROMIUM

    with tempfile.TemporaryDirectory() as work:
        index_dir, log_path = Path(work) / "index", Path(work) / "questions.sqlite"
        settings = load_settings({"index_dir": str(index_dir)})
        index_sources([REPO / "corpus"], index_dir, embedder=configured_embedder(settings))
        fill_log(log_path, Index.load(index_dir), AnswerSettings.configured(settings), time.time())
        app = create_app({"index_dir": str(index_dir), "question_log": str(log_path), "admin_token": TOKEN})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page.goto(f"http://127.0.0.1:{server.server_port}/admin/report?since=14d")
            page.get_by_label("Admin token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Questions report").wait_for()
            page.goto(f"http://127.0.0.1:{server.server_port}/admin/report?since=14d")
            page.screenshot(path=str(REPO / "docs" / "admin-report.png"), full_page=True)
            print("docs/admin-report.png")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
