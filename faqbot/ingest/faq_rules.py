"""Named rules that find FAQ pairs in page markup: accordions of the common frameworks and CMS plugins,
RDFa schema.org data, and the question forms writers use in running text ("1. Why...?", "Q: ... A: ...").

Every pair carries the name of the rule that found it (`faqbot inspect` shows it). The rules:

  jsonld-faqpage, jsonld-qapage        schema.org FAQPage / QAPage in <script type="application/ld+json">
  microdata-faqpage, microdata-qapage  the same in itemscope/itemprop microdata
  rdfa-faqpage, rdfa-qapage            the same in RDFa (typeof/property)
  accordion-bootstrap                  [data-toggle|data-bs-toggle=collapse] trigger + its .collapse panel
  accordion-aria                       button[aria-controls] / [aria-expanded] trigger + the panel it opens
                                       (both: only a trigger that asks a question, never a menu toggle)
  faq-yoast                            Yoast FAQ block (.schema-faq-section)
  faq-rankmath                         Rank Math FAQ block (.rank-math-list-item)
  toggle-elementor                     Elementor accordion/toggle (.elementor-tab-title + .elementor-tab-content)
  toggle-divi                          Divi toggle/accordion (.et_pb_toggle_title + .et_pb_toggle_content)
  details, wp-details                  <details><summary> (wp-details: the WordPress block editor's details block)
  dl                                   <dl><dt><dd>
  faq-section                          question headings or paragraphs under an FAQ heading
  question-heading                     an h2-h6 heading that asks a question, anywhere in the article
  bold-question                        a paragraph that is all bold and asks a question
  qa-lines                             "Q:" / "A:" lines (and "Frage:"/"Antwort:", "Q :"/"R :", ...)

A collapsed or hidden answer panel is content: the accordion rules read it before furniture is removed.
"""

from __future__ import annotations

import re

from lxml import etree

RULE_ATTRIBUTE = "data-faqbot-rule"
_BOLD_QUESTION_WORDS = 40
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Containers that hold an accordion trigger and stand for the question as a whole.
_TITLE_CLASSES = re.compile(r"(^|[\s_-])(panel-title|card-header|panel-heading|accordion-header|accordion-title)($|\s)")

# "1.", "1)", "Q1:", "Q:", "Question 2 -", "Frage 3:", "Pregunta 1." before the question itself.
_QUESTION_NUMBER = re.compile(
    r"^\s*(?:(?:q|question|frage|pregunta|domanda|pergunta|vraag|pytanie|вопрос)\s*\d{0,3}\s*[:：.)\-–]|"
    r"\d{1,3}\s*[.):]|\d{1,3}\s+[-–])\s*",
    re.IGNORECASE,
)
# "Q: ..." / "A: ..." and their equivalents; single letters need a colon ("Q:", "F:", "R :").
_ASK = r"(?:q|f|p|d|в|question|frage|pregunta|domanda|pergunta|vraag|pytanie|вопрос|问|問)"
_ANSWER = r"(?:a|r|о|answer|antwort|réponse|reponse|respuesta|risposta|resposta|antwoord|odpowiedź|ответ|答)"
_QUESTION_LINE = re.compile(rf"^\s*{_ASK}\s*\d{{0,3}}\s*[:：]\s*(\S.*)$", re.IGNORECASE | re.DOTALL)
_ANSWER_LINE = re.compile(rf"^\s*{_ANSWER}\s*\d{{0,3}}\s*[:：]\s*(\S.*)$", re.IGNORECASE | re.DOTALL)
# One paragraph holding both lines (Markdown joins "Q: ...?" and "A: ..." written on consecutive lines).
_QA_IN_ONE = re.compile(rf"^\s*{_ASK}\s*\d{{0,3}}\s*[:：]\s*(.+?[?？؟])\s+{_ANSWER}\s*[:：]\s*(\S.*)$",
                        re.IGNORECASE | re.DOTALL)


def strip_question_number(text: str) -> str:
    """The question without a leading "1.", "Q1:", "Q:" or "Frage 3:" (unchanged when nothing is left)."""
    stripped = _QUESTION_NUMBER.sub("", text, count=1).strip()
    return stripped or text


def question_line(text: str) -> str | None:
    """The question of a "Q: ..." line, or None."""
    match = _QUESTION_LINE.match(text)
    return match.group(1).strip() if match and not _ANSWER_LINE.match(text) else None


def answer_line(text: str) -> str | None:
    """The answer of an "A: ..." line, or None."""
    match = _ANSWER_LINE.match(text)
    return match.group(1).strip() if match else None


def qa_in_one(text: str) -> tuple[str, str] | None:
    """(question, answer) of a paragraph "Q: ...? A: ...", or None."""
    match = _QA_IN_ONE.match(text)
    return (match.group(1).strip(), match.group(2).strip()) if match else None


# --- accordions: rewritten as <details> so one reader handles them all --------------------------------

def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _by_id(root: etree._Element) -> dict[str, etree._Element]:
    ids: dict[str, etree._Element] = {}
    for el in root.xpath("//*[@id]"):
        ids.setdefault(el.get("id").strip(), el)
    return ids


def _title_of(trigger: etree._Element) -> etree._Element:
    """The element that stands for the question: the trigger's heading or title box, else the trigger."""
    for el in [trigger, *trigger.iterancestors()][:3]:
        if el.tag in _HEADINGS or _TITLE_CLASSES.search(el.get("class") or ""):
            return el
    return trigger


def _make_details(title: etree._Element, panel: etree._Element, rule: str) -> None:
    """Put a <details> where the title stands: the title's text as <summary>, the panel as the answer."""
    if title is panel or panel in title.iterancestors() or title in panel.iterancestors():
        return
    parent = title.getparent()
    if parent is None or panel.getparent() is None:
        return
    details = etree.Element("details", {RULE_ATTRIBUTE: rule})
    anchor = title.get("id") or panel.get("id")
    if anchor:
        details.set("id", anchor)
    summary = etree.SubElement(details, "summary")
    summary.text = " ".join(" ".join(title.itertext()).split())
    details.tail = title.tail
    parent.replace(title, details)
    panel_tail, panel_parent = panel.tail, panel.getparent()
    previous = panel.getprevious()
    panel_parent.remove(panel)
    if panel_tail:  # keep the text that followed the panel where it stood
        if previous is not None:
            previous.tail = (previous.tail or "") + panel_tail
        else:
            panel_parent.text = (panel_parent.text or "") + panel_tail
    panel.tail = None
    for attribute in ("hidden", "aria-hidden", "style"):
        panel.attrib.pop(attribute, None)
    details.append(panel)


# Item class -> (question class, answer class, rule) of the plugins' FAQ and toggle blocks.
_CLASS_RULES = {
    "schema-faq-section": ("schema-faq-question", "schema-faq-answer", "faq-yoast"),
    "rank-math-list-item": ("rank-math-question", "rank-math-answer", "faq-rankmath"),
    "elementor-accordion-item": ("elementor-tab-title", "elementor-tab-content", "toggle-elementor"),
    "elementor-toggle-item": ("elementor-tab-title", "elementor-tab-content", "toggle-elementor"),
    "et_pb_toggle": ("et_pb_toggle_title", "et_pb_toggle_content", "toggle-divi"),
    "et_pb_accordion_item": ("et_pb_toggle_title", "et_pb_toggle_content", "toggle-divi"),
}
# One XPath pass (in C) finds the candidates; class names are then checked word by word.
_CLASS_XPATH = etree.XPath("//*[" + " or ".join(f'contains(@class, "{c}")' for c in _CLASS_RULES) + "]")
_TRIGGER_XPATH = etree.XPath("//*[@aria-controls or @aria-expanded or @data-toggle or @data-bs-toggle]")


def _class_pairs(root: etree._Element) -> None:
    for box in _CLASS_XPATH(root):
        item = next((c for c in _classes(box) if c in _CLASS_RULES), None)
        if item is None or box.getparent() is None:
            continue
        question, answer, rule = _CLASS_RULES[item]
        q = next((el for el in box.iter() if isinstance(el.tag, str) and question in _classes(el)), None)
        a = next((el for el in box.iter() if isinstance(el.tag, str) and answer in _classes(el)), None)
        if q is not None and a is not None and " ".join(q.itertext()).strip():
            _make_details(q, a, rule)


def _trigger_pairs(root: etree._Element, is_question) -> None:
    """Collapse triggers and the panels they open; the trigger must ask a question, since menus, search
    boxes and "Show more" buttons use the same markup."""
    triggers = _TRIGGER_XPATH(root)
    ids = _by_id(root) if triggers else {}
    for trigger in triggers:
        if trigger.getparent() is None:
            continue
        toggle = (trigger.get("data-toggle") or trigger.get("data-bs-toggle") or "").strip().lower()
        target = trigger.get("data-target") or trigger.get("data-bs-target") or trigger.get("href") or ""
        controls = (trigger.get("aria-controls") or "").split()
        if toggle == "collapse" and target.strip().startswith("#"):
            rule, panel = "accordion-bootstrap", ids.get(target.strip()[1:])
            if panel is None and controls:
                panel = ids.get(controls[0])
        elif controls and (trigger.tag == "button" or trigger.get("aria-expanded") is not None
                           or (trigger.get("role") or "") == "button"):
            rule, panel = "accordion-aria", ids.get(controls[0])
        elif trigger.get("aria-expanded") is not None and trigger.tag in ("button", "a", *_HEADINGS):
            rule, panel = "accordion-aria", _title_of(trigger).getnext()
        else:
            continue
        if panel is None or not is_question(" ".join(" ".join(_title_of(trigger).itertext()).split())):
            continue
        _make_details(_title_of(trigger), panel, rule)


def rewrite_accordions(root: etree._Element, is_question) -> None:
    """Rewrite accordion items of the common frameworks and plugins as <details> marked with their rule.

    is_question(text) tells whether a collapse trigger's title asks a question (extract.is_question)."""
    _class_pairs(root)
    _trigger_pairs(root, is_question)


def mark_bold_questions(root: etree._Element, is_question) -> None:
    """Mark each <p> that is all bold (<strong>/<b>) and asks a question: it opens a pair."""
    for p in root.iter("p"):
        text = " ".join("".join(p.itertext()).split())
        if not text or len(text.split()) > _BOLD_QUESTION_WORDS or not is_question(text):
            continue
        bold = " ".join("".join(t for b in p.iter("strong", "b") for t in b.itertext()).split())
        if bold == text:
            p.set(RULE_ATTRIBUTE, "bold-question")


def details_rule(el: etree._Element) -> str:
    """The rule name of a <details> element: the accordion rule that made it, or (wp-)details."""
    return el.get(RULE_ATTRIBUTE) or ("wp-details" if "wp-block-details" in _classes(el) else "details")


# --- microdata and RDFa: schema.org FAQPage and QAPage ------------------------------------------------

def _names(value: str | None) -> set[str]:
    """Type or property names without their vocabulary: "https://schema.org/Question" -> "Question"."""
    return {v.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in (value or "").split()}


# Where each syntax writes an element's types and properties.
_SYNTAX = {"microdata": ("itemtype", "itemprop"), "rdfa": ("typeof", "property")}


def schema_pairs(root: etree._Element, syntax: str, text_of) -> list[tuple[str, str, str | None, str]]:
    """(question, answer, anchor, rule) from microdata or RDFa: an FAQPage/QAPage holding mainEntity
    Questions, each with a name and an acceptedAnswer (else suggestedAnswer) whose text is the answer.

    text_of(el) gives an element's reader-visible text (or its content attribute)."""
    types, props = _SYNTAX[syntax]

    def first(el: etree._Element, prop: str) -> etree._Element | None:
        return next((e for e in el.iter() if isinstance(e.tag, str) and e is not el
                     and prop in _names(e.get(props))), None)

    pairs = []
    for page in root.iter():
        kinds = _names(page.get(types)) & {"FAQPage", "QAPage"} if isinstance(page.tag, str) else set()
        if not kinds:
            continue
        rule = f"{syntax}-{'faqpage' if 'FAQPage' in kinds else 'qapage'}"
        for question in page.iter():
            if not isinstance(question.tag, str) or "mainEntity" not in _names(question.get(props)):
                continue
            name = first(question, "name")
            answer = first(question, "acceptedAnswer")
            answer = first(question, "suggestedAnswer") if answer is None else answer
            if name is None or answer is None:
                continue
            text = first(answer, "text")
            q, a = text_of(name), text_of(answer if text is None else text)
            if q and a:
                pairs.append((q, a, (question.get("id") or name.get("id") or "").strip() or None, rule))
    return pairs
