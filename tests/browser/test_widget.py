"""The chat widget in a real headless Chromium: what a reader sees, types, clicks and hears."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, AXE

pytestmark = pytest.mark.browser

WIDGET = "faqbot-widget"
IMPORTANT = "Why is open source AI important?"
CHALLENGES = "What are the main challenges of open source AI?"
NONSENSE = "xyzzy plugh frobnicate"
OPEN = re.compile(r"^Open chat")

# Where focus is, seen from inside the widget's shadow root.
FOCUS = """() => {
  const host = document.querySelector("faqbot-widget");
  const el = host && host.shadowRoot.activeElement;
  if (!el) return {inWidget: false, tag: document.activeElement && document.activeElement.tagName};
  const style = getComputedStyle(el);
  return {inWidget: true, inPanel: !!el.closest(".panel"), tag: el.tagName,
          label: el.getAttribute("aria-label") || el.textContent.trim(),
          ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2};
}"""


def open_widget(page: Page, path: str = "/") -> None:
    page.goto(path)
    page.get_by_role("button", name=OPEN).click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("textbox", name="Type your question")).to_be_focused()


def ask(page: Page, question: str) -> None:
    box = page.locator(f"{WIDGET} input.input")
    box.fill(question)
    box.press("Enter")


def last_bot_row(page: Page):
    return page.locator(f"{WIDGET} .row.bot").last


def api_answer(api, question: str) -> dict:
    return api.post("/api/ask", json={"question": question}).get_json()["answer"]


def test_a_seed_question_gets_its_answer_with_a_deep_source_link(page, api, base_url):
    expected = api_answer(api, IMPORTANT)
    open_widget(page)
    expect(page.get_by_role("button", name=IMPORTANT)).to_be_visible()  # starter chip from /api/starters
    ask(page, IMPORTANT)

    answer = page.locator(f"{WIDGET} .bubble.answer").first
    expect(answer).to_contain_text(expected["text"])
    link = answer.get_by_role("link", name=re.compile("Open Source AI Must Win"))
    expect(link).to_have_attribute("href", urljoin(base_url + "/", expected["link"]))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    marks = answer.locator(".answer-text mark").all_text_contents()
    assert marks == ["Open source AI", "important"]
    expect(page.locator(f"{WIDGET} .bubble.typing")).to_have_count(0)
    expect(page.locator(f"{WIDGET} [role=status]")).to_contain_text("New answer: " + expected["text"][:40])
    expect(answer.locator(".faq-question")).to_have_count(0)  # it would repeat the reader's question

    ask(page, "funding challenges")  # other words: the FAQ question it matched is shown
    expect(page.locator(f"{WIDGET} .bubble.answer .faq-question").last).to_have_text(CHALLENGES)


def test_nonsense_gets_suggestions_and_a_suggestion_gets_its_answer(page, api):
    open_widget(page)
    ask(page, NONSENSE)
    row = last_bot_row(page)
    expect(row).to_contain_text("Sorry, I couldn't find an answer to that in our articles.")
    chips = row.locator(".chip")
    expect(chips).to_have_count(4)
    first = chips.first.text_content()
    expect(row.get_by_role("link", name="Contact a person")).to_have_attribute("href", re.compile(r"/#contact$"))

    chips.first.click()
    expect(page.locator(f"{WIDGET} .row.user").last).to_have_text("You: " + first)
    expect(page.locator(f"{WIDGET} .bubble.answer .answer-text")).to_have_text(api_answer(api, first)["text"])
    expect(page.get_by_role("textbox", name="Type your question")).to_be_focused()


def test_suggestions_are_the_scored_results_by_question_or_first_words(page):
    def passage(n, score, question=None, text="Tomatoes need six hours of sun a day, rich soil and water."):
        return {"id": f"a#{n}", "kind": "faq" if question else "paragraph", "question": question, "text": text,
                "title": "A", "section": "", "url": "/a", "link": "/a", "score": score, "confidence": 0.1}

    results = [passage(1, 2.5, question="How much sun do tomatoes need?"), passage(2, 1.0), passage(3, 0.0, text="Zero")]
    page.route("**/api/ask", lambda route: route.fulfill(content_type="application/json", body=json.dumps(
        {"question": "tomato sun", "answer": None, "results": results, "took_ms": 1})))
    open_widget(page)
    ask(page, "tomato sun")
    chips = last_bot_row(page).locator(".chip")
    expect(chips).to_have_text(["How much sun do tomatoes need?", "Tomatoes need six hours of sun a day,…"])


def test_an_uncertain_response_offers_the_questions_as_chips_and_no_answer(page):
    """uncertain: the question is as close to other FAQ questions as to the first result's, so the
    widget shows the candidate questions to pick from, and none of their answers."""
    def passage(n, question, score):
        return {"id": f"a#{n}", "kind": "faq", "question": question, "text": f"Answer number {n}.",
                "title": "A", "section": "", "url": "/a", "link": "/a", "score": score, "confidence": 0.8}

    first, other = passage(1, "Should schools close?", 0.81), passage(2, "Will schools be dismissed?", 0.80)
    page.route("**/api/ask", lambda route: route.fulfill(content_type="application/json", body=json.dumps(
        {"question": "school closed?", "answer": None, "results": [first, other, passage(3, "Can dogs get it?", 0.4)],
         "did_you_mean": [other], "uncertain": True, "took_ms": 1})))
    open_widget(page)
    ask(page, "school closed?")
    row = last_bot_row(page)
    expect(row).to_contain_text("Your question is close to more than one of ours. Which do you mean?")
    expect(row.locator(".chip")).to_have_text(["Should schools close?", "Will schools be dismissed?"])
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_have_count(0)
    expect(row).not_to_contain_text("Answer number")
    expect(page.locator(f"{WIDGET} [role=status]")).to_contain_text("Which do you mean?")
    page.reload()  # the turn survives in the saved conversation
    page.get_by_role("button", name=OPEN).click()
    expect(last_bot_row(page).locator(".chip")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "widget-uncertain.png"))
    row = last_bot_row(page)
    row.locator(".chip").first.click()
    expect(page.locator(f"{WIDGET} .row.user").last).to_have_text("You: Should schools close?")


def test_the_whole_flow_works_with_the_keyboard_only(page, served):
    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus["inWidget"]:
            break
    assert focus["label"] == "Open chat: Ask The Open Review" and focus["tag"] == "BUTTON"
    assert focus["ring"], "the launcher shows a visible focus ring"

    page.keyboard.press("Enter")
    assert page.evaluate(FOCUS)["label"] == "Type your question"
    page.keyboard.type(CHALLENGES)
    page.keyboard.press("Enter")
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_contain_text("limited funding")

    # Tab cycles inside the panel, forwards and backwards, with a ring on every stop.
    stops = []
    for key in ["Tab"] * 10 + ["Shift+Tab"] * 10:
        page.keyboard.press(key)
        focus = page.evaluate(FOCUS)
        assert focus["inWidget"] and focus["inPanel"], f"{key} left the panel: {focus}"
        assert focus["ring"], f"no focus ring on {focus['label']}"
        stops.append(focus["label"])
    assert {"Close chat", "Type your question", "Send", "Yes", "No"} <= set(stops)
    assert any(label.startswith("Source: Open Source AI Must Win") or label.startswith("Open Source AI Must Win")
               for label in stops)

    while page.evaluate(FOCUS)["label"] != "No":
        page.keyboard.press("Tab")
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as response:
        page.keyboard.press("Space")
    assert response.value.status == 204
    expect(page.locator(f"{WIDGET} .thanks")).to_have_text("Thanks for your feedback!")
    assert page.evaluate(FOCUS)["inPanel"]
    assert served.extensions["faqbot.log"].rows("feedback")[-1]["helpful"] == 0

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    focus = page.evaluate(FOCUS)
    assert focus["label"] == "Open chat: Ask The Open Review"
    expect(page.get_by_role("button", name=OPEN)).to_have_attribute("aria-expanded", "false")


def test_feedback_is_posted_and_stored(page, api, served):
    expected = api_answer(api, IMPORTANT)
    open_widget(page)
    ask(page, IMPORTANT)
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as response:
        page.get_by_role("group", name="Was this helpful?").get_by_role("button", name="Yes").click()
    assert response.value.status == 204
    assert json.loads(response.value.request.post_data) == {
        "question": IMPORTANT, "passage_id": expected["id"], "helpful": True}
    expect(page.locator(f"{WIDGET} .thanks")).to_be_visible()
    stored = served.extensions["faqbot.log"].rows("feedback")[-1]
    assert (stored["question"], stored["passage_id"], stored["helpful"]) == (IMPORTANT, expected["id"], 1)


@pytest.mark.parametrize("question", [
    '<img src=x onerror="window.__xss=1"> in comments',
    "<script>window.__xss=1</script> moderation filter",
])
def test_markup_in_articles_and_questions_never_executes(page, question):
    open_widget(page)
    ask(page, question)
    answer = page.locator(f"{WIDGET} .bubble.answer")
    expect(answer).to_contain_text("window.__xss=1")  # shown as text
    expect(page.locator(f"{WIDGET} .row.user .bubble").last).to_have_text(question)
    expect(answer.get_by_role("link")).to_contain_text('Markup <img src=x onerror="window.__xss=1"> in comments')
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelector('faqbot-widget').shadowRoot.querySelectorAll('img, script').length") == 0


HOST_PAGE = """<!doctype html><html lang="fr"><head><title>Another site</title>
<style>* {{ font-size: 40px !important; color: red !important; display: block; }} button {{ display: none !important; }}</style>
</head><body><main><h1>Un autre site</h1><p>Article.</p></main>
<script src="{api}/widget.js" async data-position="left" data-accent="#0f766e"
  data-title="&lt;img src=x onerror=window.__xss=1&gt;" data-greeting="&lt;script&gt;window.__xss=1&lt;/script&gt;"
  data-contact-url="javascript:window.__xss=1"></script></body></html>"""


def test_embeds_on_another_origin_with_its_options_and_host_css(page, base_url, other_site):
    """A page on http://localhost:<port> loads the widget from 127.0.0.1: CORS, options, isolation."""
    other_site["/another-site.html"] = HOST_PAGE.format(api=base_url)
    page.goto(other_site["origin"] + "/another-site.html")
    launcher = page.get_by_role("button", name=re.compile("^Ouvrir la discussion"))
    expect(launcher).to_be_visible()  # the host page hides every button and recolours everything
    box = launcher.bounding_box()
    assert box["x"] < 100 and box["width"] == 60
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 118, 110)"

    launcher.click()
    expect(page.get_by_role("heading", name="<img src=x onerror=window.__xss=1>")).to_be_visible()
    expect(page.locator(f"{WIDGET} .greeting .bubble")).to_have_text("<script>window.__xss=1</script>")
    assert page.locator(f"{WIDGET} .title").evaluate("t => getComputedStyle(t).fontSize") == "17px"
    ask(page, NONSENSE)
    expect(last_bot_row(page)).to_contain_text("Désolé")
    expect(last_bot_row(page).get_by_role("link")).to_have_count(0)  # javascript: contact URL dropped

    ask(page, IMPORTANT)  # cross-origin POST with a preflight
    link = page.locator(f"{WIDGET} .bubble.answer").get_by_role("link")
    expect(link).to_have_attribute("href", re.compile("^" + re.escape(base_url + "/articles/")))
    assert page.evaluate("window.__xss") is None


def test_only_http_links_become_links(page, base_url):
    passage = {"id": "x#1", "kind": "paragraph", "question": None, "text": "Some text.", "title": "Evil",
               "section": "", "url": "/x", "score": 3.0, "confidence": 0.9}
    links = iter(["javascript:window.__xss=1", "data:text/html,<script>window.__xss=1</script>",
                  "https://example.com/a#b", "/articles/x#:~:text=Some%20text"])

    def fake(route):
        body = {"question": "q", "answer": {**passage, "link": next(links)}, "results": [], "took_ms": 1}
        route.fulfill(content_type="application/json", body=json.dumps(body))

    page.route("**/api/ask", fake)
    open_widget(page)
    for _ in range(4):
        ask(page, "q")
        page.wait_for_function(
            "n => document.querySelector('faqbot-widget').shadowRoot.querySelectorAll('.answer').length === n",
            arg=_ + 1)
    sources = page.locator(f"{WIDGET} .answer .source")
    expect(sources.nth(0).locator("a")).to_have_count(0)
    expect(sources.nth(0)).to_have_text("Source: Evil")
    expect(sources.nth(1).locator("a")).to_have_count(0)
    expect(sources.nth(2).locator("a")).to_have_attribute("href", "https://example.com/a#b")
    expect(sources.nth(3).locator("a")).to_have_attribute("href", base_url + "/articles/x#:~:text=Some%20text")
    assert page.evaluate("window.__xss") is None


def test_network_error_shows_a_retry_that_works(page):
    open_widget(page)
    page.route("**/api/ask", lambda route: route.abort())
    ask(page, IMPORTANT)
    row = last_bot_row(page)
    expect(row).to_contain_text("I couldn't reach the server.")
    expect(page.locator(f"{WIDGET} .bubble.typing")).to_have_count(0)
    page.unroute("**/api/ask")
    row.get_by_role("button", name="Try again").click()
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_contain_text("promotes collaboration")
    expect(page.locator(f"{WIDGET} .bubble.error")).to_have_count(0)
    expect(page.locator(f"{WIDGET} .row.user")).to_have_count(1)


def test_a_server_that_never_answers_times_out_after_ten_seconds(page):
    held = []
    page.clock.install()
    page.route("**/api/ask", lambda route: held.append(route))
    open_widget(page)
    ask(page, IMPORTANT)
    expect(page.locator(f"{WIDGET} .bubble.typing")).to_be_visible()
    page.clock.run_for(9_000)
    expect(page.locator(f"{WIDGET} .bubble.typing")).to_be_visible()
    page.clock.run_for(1_500)
    expect(last_bot_row(page)).to_contain_text("The server took too long to answer.")
    expect(last_bot_row(page).get_by_role("button", name="Try again")).to_be_visible()
    expect(page.locator(f"{WIDGET} .bubble.typing")).to_have_count(0)
    for route in held:
        route.abort()


def test_an_api_error_sentence_is_shown(page):
    page.route("**/api/ask", lambda route: route.fulfill(
        status=400, content_type="application/json", body=json.dumps({"error": "Ask a shorter question."})))
    open_widget(page)
    ask(page, "q")
    expect(last_bot_row(page).locator(".bubble.error")).to_have_text("Ask a shorter question.")
    expect(last_bot_row(page).get_by_role("button", name="Try again")).to_have_count(0)


def test_history_survives_navigation_within_the_site(page):
    open_widget(page)
    ask(page, IMPORTANT)
    page.get_by_role("button", name="Yes").click()
    expect(page.locator(f"{WIDGET} .thanks")).to_be_visible()
    open_widget(page, "/?another-page")
    expect(page.locator(f"{WIDGET} .row.user")).to_have_text(["You: " + IMPORTANT])
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_contain_text("promotes collaboration")
    expect(page.locator(f"{WIDGET} .thanks")).to_be_visible()
    expect(page.locator(f"{WIDGET} .greeting .chip")).to_have_count(0)


@pytest.mark.parametrize("width", [320, 375])
def test_phone_width_is_full_screen_without_sideways_scroll(page, width):
    page.set_viewport_size({"width": width, "height": 640})
    page.goto("/")
    expect(page.get_by_role("button", name=OPEN)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    open_widget(page)
    ask(page, "Why is open source AI important? " + "supercalifragilistic" * 6)
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_be_visible()
    ask(page, NONSENSE)
    expect(last_bot_row(page).locator(".chip")).to_have_count(4)
    box = page.get_by_role("dialog").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, width, 640)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    overflow = page.locator(f"{WIDGET} .scroller").evaluate("s => s.scrollWidth - s.clientWidth")
    assert overflow == 0


def test_wide_screens_get_a_floating_panel(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_widget(page)
    box = page.get_by_role("dialog").bounding_box()
    assert box["width"] == 384 and box["x"] + box["width"] == 1280 - 20


def test_works_under_a_strict_content_security_policy(page):
    policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'"

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

    page.route("**/", with_csp)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    open_widget(page)
    ask(page, IMPORTANT)
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_contain_text("promotes collaboration")
    assert violations == []


def axe_problems(page: Page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script> tag: the page's CSP blocks inline scripts
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['impact']}: {v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_or_critical_violation(page):
    page.goto("/")
    expect(page.get_by_role("button", name=OPEN)).to_be_visible()
    assert axe_problems(page) == []

    page.get_by_role("button", name=OPEN).click()
    ask(page, IMPORTANT)
    expect(page.locator(f"{WIDGET} .bubble.answer")).to_be_visible()
    ask(page, NONSENSE)
    expect(last_bot_row(page).locator(".chip")).to_have_count(4)
    assert axe_problems(page) == []


LANG_PAGE = """<!doctype html><html lang="{lang}"><head><title>{lang}</title></head>
<body><main><h1>{lang}</h1></main><script src="{api}/widget.js" async></script></body></html>"""


def _asked_bodies(page: Page) -> list[dict]:
    bodies: list[dict] = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/api/ask") else None)
    return bodies


def test_a_german_page_asks_in_german_and_marks_the_server_s_matched_words(page, base_url, other_site):
    other_site["/de.html"] = LANG_PAGE.format(lang="de-AT", api=base_url)
    bodies = _asked_bodies(page)
    page.goto(other_site["origin"] + "/de.html")
    page.get_by_role("button", name=re.compile("^Chat öffnen")).click()
    ask(page, "Wie kündige ich meine Verträge?")
    answer = page.locator(f"{WIDGET} .bubble.answer").first
    expect(answer).to_contain_text("Vertrag jederzeit schriftlich kündigen")
    # German stems: "Verträge"/"Vertrag" and "kündige"/"kündigen" match; no English stopword list involved.
    assert answer.locator(".answer-text mark").all_text_contents() == ["Vertrag", "kündigen"]
    assert bodies and bodies[-1]["lang"] == "de-AT"
    expect(page.locator(f"{WIDGET} .root")).to_have_attribute("dir", "ltr")


def test_an_arabic_page_lays_out_right_to_left(page, base_url, other_site):
    other_site["/ar.html"] = LANG_PAGE.format(lang="ar", api=base_url)
    page.goto(other_site["origin"] + "/ar.html")
    page.get_by_role("button", name=re.compile("^فتح المحادثة")).click()
    root = page.locator(f"{WIDGET} .root")
    expect(root).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("textbox", name="سؤالك")).to_be_focused()
    ask(page, "كم يستغرق الشحن؟")
    answer = page.locator(f"{WIDGET} .bubble.answer").first
    expect(answer).to_contain_text("الشحن إلى جميع المدن")
    assert answer.locator(".answer-text mark").all_text_contents() == ["الشحن", "يستغرق"]
    text = answer.locator(".answer-text")
    assert text.evaluate("t => getComputedStyle(t).direction") == "rtl"
    # Right to left: the text starts at the bubble's right edge, the reader's own bubble sits on the left.
    bubble, question = answer.bounding_box(), page.locator(f"{WIDGET} .row.user .bubble").last.bounding_box()
    assert question["x"] < bubble["x"] + bubble["width"] / 2
    page.screenshot(path=str(ARTIFACTS / "widget-arabic-rtl.png"))
