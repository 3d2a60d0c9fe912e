"""GET /admin/report in a real headless Chromium: sign in through the form, read the report, axe-clean."""

from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import write_sample_articles

from .report_screenshot import TOKEN, fill_log
from .test_widget import axe_problems

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory):
    """The app with an admin token over a question log filled with two weeks of questions."""
    from faqbot import create_app
    from faqbot.search.answer import AnswerSettings
    from faqbot.index.store import Index
    from faqbot.index.incremental import index_sources

    work = tmp_path_factory.mktemp("admin-report")
    folder = write_sample_articles(work / "articles")
    index_sources([folder], work / "index")
    fill_log(work / "questions.sqlite", Index.load(work / "index"), AnswerSettings(), time.time(), days=5)
    app = create_app({"index_dir": str(work / "index"), "question_log": str(work / "questions.sqlite"),
                      "admin_token": TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_sign_in_and_read_the_report(page, admin_site):
    page.goto(f"{admin_site}/admin/report")
    expect(page.get_by_text("Sign in with the admin token")).to_be_visible()
    page.get_by_label("Admin token").fill("not the token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That token is not right.")).to_be_visible()
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Questions report")).to_be_visible()
    expect(page.get_by_role("img", name="Questions per day and answered rate")).to_be_visible()
    unanswered = page.get_by_role("region", name="Unanswered questions")
    expect(unanswered.get_by_text(re.compile(r"^also: ")).first).to_be_visible()  # reworded questions grouped
    expect(page.get_by_role("link", name="30d")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="7d").click()
    expect(page.get_by_role("link", name="7d")).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()


def test_axe_finds_no_serious_or_critical_violation(browser, admin_site):
    context = browser.new_context(bypass_csp=True)  # axe-core is injected as an inline script
    page = context.new_page()
    page.goto(f"{admin_site}/admin/report")
    assert axe_problems(page) == []
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Questions report")).to_be_visible()
    assert axe_problems(page) == []
    context.close()
