"""Browser-test fixtures: the app served on an ephemeral port, Debian's Chromium, axe-core.

These tests never skip: a machine without Chromium or axe-core fails them with a sentence that
says to run `scripts/setup-browser.sh`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import SAMPLE_ARTICLES, SEED

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parent.parent / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETUP_HINT = "Run `scripts/setup-browser.sh` to install it (the README's test command does)."

# Scraped text keeps markup as literal text (the Markdown reader would strip it): it must reach the
# page as text, in the passage, its title and its deep link.
# Articles in other languages (paragraphs only: the starter chips stay the English FAQ questions).
OTHER_LANGUAGES = {
    "vertrag.md": "---\ntitle: Ihr Vertrag\nlang: de\n---\n# Ihr Vertrag\n\n"
                  "Sie können Ihren Vertrag jederzeit schriftlich kündigen, eine Frist gibt es nicht.\n",
    "alshahn.md": "---\ntitle: الشحن\nlang: ar\n---\n# الشحن\n\n"
                  "الشحن إلى جميع المدن يستغرق ثلاثة أيام عمل، وهو مجاني للطلبات الكبيرة.\n",
}

HOSTILE_ARTICLE = """Markup <img src=x onerror="window.__xss=1"> in comments
Readers sometimes paste markup such as <img src=x onerror="window.__xss=1"> into the comment form of an article.
What the moderation filter removes
The moderation filter removes <script>window.__xss=1</script> blocks and javascript: links before publishing a comment.
"""


@pytest.fixture(scope="session", autouse=True)
def _browser_tools_present():
    """Fail (never skip) when the tools these tests drive are missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"Debian's Chromium is missing at {CHROMIUM}. {SETUP_HINT}", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}. {SETUP_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ARGS}


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """The faqbot app over the seed article plus a few others, on 127.0.0.1:<ephemeral port>."""
    from faqbot import create_app
    from faqbot.index.incremental import index_sources

    folder = tmp_path_factory.mktemp("browser-corpus")
    (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "markup-in-comments.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    for name in ("refunds.md", "gardening.md"):
        (folder / name).write_text(SAMPLE_ARTICLES[name], encoding="utf-8")
    for name, text in OTHER_LANGUAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    work = tmp_path_factory.mktemp("browser-index")
    index_sources([folder], work / "index")
    app = create_app({"index_dir": str(work / "index"), "question_log": str(work / "questions.sqlite")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()


@pytest.fixture(scope="session")
def other_site():
    """Another web site, http://localhost:<port>, serving the pages a test puts in its dict.

    A real server rather than page.route: Chromium only lets a page that really came from a
    loopback address call one (Local Network Access).
    """
    from werkzeug.wrappers import Request, Response

    pages: dict[str, str] = {}

    @Request.application
    def site(request):
        if request.path not in pages:
            return Response("not found", status=404)
        return Response(pages[request.path], content_type="text/html; charset=utf-8")

    server = make_server("127.0.0.1", 0, site, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pages["origin"] = f"http://localhost:{server.server_port}"
    yield pages
    server.shutdown()


@pytest.fixture(scope="session")
def base_url(served):
    """pytest-playwright's page.goto("/") resolves against this."""
    return served.config["BASE_URL"]


@pytest.fixture
def api(served):
    """A Flask test client on the same app, to compare what the page shows with the API."""
    return served.test_client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(page, request):
    """pytest-playwright's page, without animations, and a screenshot in test-artifacts/ on failure."""
    page.set_default_timeout(8000)
    page.emulate_media(reduced_motion="reduce")  # no entry animations: boxes and colours are final at once
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
