"""Take the README's widget screenshots: docs/widget-desktop.png (1280x800), docs/widget-phone.png (375x740).

Run from the repository root after scripts/setup-browser.sh:  python tests/browser/screenshots.py
It indexes the sample corpus (or just the seed article) into a temporary folder, serves the demo
page and asks it a question.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from faqbot import create_app  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402
from tests.browser.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.conftest import SEED  # noqa: E402

SHOTS = [("widget-desktop.png", 1280, 800), ("widget-phone.png", 375, 740)]
QUESTION = "What are the main challenges of open source AI?"


def main() -> None:
    """Serve the demo page and save one screenshot per viewport into docs/."""
    with tempfile.TemporaryDirectory() as work:
        corpus = REPO / "corpus"
        index_sources([corpus if any(corpus.glob("*.*")) else SEED], Path(work) / "index")
        app = create_app({"index_dir": str(Path(work) / "index"), "log_questions": False})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            for name, width, height in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": height}, reduced_motion="reduce",
                                        device_scale_factor=1)
                page.goto(f"http://127.0.0.1:{server.server_port}/")
                page.get_by_role("button", name="Open chat: Ask The Open Review").click()
                page.get_by_role("textbox", name="Type your question").fill(QUESTION)
                page.keyboard.press("Enter")
                page.get_by_text("Was this helpful?").wait_for()
                page.mouse.move(0, 0)
                page.locator("faqbot-widget input").blur()
                page.screenshot(path=str(REPO / "docs" / name))
                print(f"docs/{name}")
                page.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
