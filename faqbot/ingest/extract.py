"""Article -> Passages: FAQ pairs and paragraphs, each with its section and a deep link."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from .faq_rules import answer_line, qa_in_one, question_line, strip_question_number
from ..model import Article, Block, Passage
from ..text.analyze import words

# How a heading starting an FAQ section begins, per language (regex pieces, matched ignoring case;
# \s+ between words). To recognise more phrasings, add a piece to its language.
FAQ_PHRASES = {
    "en": (r"faqs?", r"f\.a\.q\.?s?", r"frequently[ -]asked[ -]questions?", r"common(ly asked)? questions",
           r"questions (and|&) answers", r"q ?(&|and) ?a", r"your questions,? answered"),
    "de": (r"häufig(e|\s+gestellte)\s+fragen", r"fragen\s+(und|&)\s+antworten", r"oft\s+gestellte\s+fragen"),
    "fr": (r"questions\s+(fréquentes|fréquemment\s+posées)", r"foire\s+aux\s+questions", r"questions\s+et\s+réponses"),
    "es": (r"preguntas\s+(más\s+)?frecuentes", r"preguntas\s+y\s+respuestas"),
    "it": (r"domande\s+(più\s+)?frequenti", r"domande\s+e\s+risposte"),
    "pt": (r"perguntas\s+(mais\s+)?frequentes", r"perguntas\s+e\s+respostas"),
    "nl": (r"veel\s*gestelde\s+vragen", r"vragen\s+en\s+antwoorden"),
    "pl": (r"(najczęściej|często)\s+zadawane\s+pytania", r"pytania\s+i\s+odpowiedzi"),
    "ru": (r"часто\s+задаваемые\s+вопросы", r"вопросы\s+и\s+ответы"),
    "uk": (r"часті\s+запитання", r"поширені\s+запитання"),
    "sv": (r"vanliga\s+frågor",), "da": (r"ofte\s+stillede\s+spørgsmål",), "no": (r"ofte\s+stilte\s+spørsmål",),
    "fi": (r"usein\s+kysytyt\s+kysymykset",), "cs": (r"časté\s+dotazy", r"často\s+kladené\s+otázky"),
    "ro": (r"întrebări\s+frecvente",), "tr": (r"sıkça\s+sorulan\s+sorular", r"sss"),
    "el": (r"συχνές\s+ερωτήσεις",), "id": (r"pertanyaan\s+yang\s+sering\s+diajukan",),
    "vi": (r"câu\s+hỏi\s+thường\s+gặp",), "hi": (r"अक्सर\s+पूछे\s+जाने\s+वाले\s+प्रश्न",),
    "ar": (r"(ال)?أسئلة\s+(ال)?(شائعة|متكررة)",), "he": (r"שאלות\s+נפוצות",),
    "zh": (r"常见问题", r"常見問題", r"常见问答"), "ja": (r"よくある(ご)?質問",), "ko": (r"자주\s*묻는\s*질문",),
    "th": (r"คำถามที่พบบ่อย",),
}
FAQ_HEADING = re.compile(
    r"^\s*(" + "|".join(p for phrases in FAQ_PHRASES.values() for p in phrases) + r")"
    r"(?:(?<=[\u0e00-\u0e7f\u3040-\u9fff\uac00-\ud7af])|\b)",  # unspaced scripts have no word boundary
    re.IGNORECASE,
)
# "<Topic>: FAQs", "Lemon trees - questions and answers": the phrase ends the heading after its topic.
_FAQ_HEADING_END = re.compile(
    r"(?:^|[\s:|–—-])(" + "|".join(p for phrases in FAQ_PHRASES.values() for p in phrases) + r")[\s.!)]*$",
    re.IGNORECASE,
)
# What a question ends with, per script: Latin, Cyrillic..., fullwidth (CJK), Arabic, Greek, Armenian.
QUESTION_MARKS = ("?", "？", "؟", "\u037e", "՞")
SPLIT_WORDS = 120  # long paragraphs are cut at sentence boundaries near this many words
MIN_WORDS = 8  # shorter paragraphs merge with a neighbour
# A sentence ends at . ! ? … before a capital or digit, or at the full-width 。！？ of Chinese and Japanese.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9])|(?<=[。！？])[」』”）)]?\s*(?=\S)")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words in text; in scripts written without spaces (CJK, Thai) two characters count as one word."""
    n = len(text.split())
    return n if text.isascii() else n + len(_UNSPACED.findall(text)) // 2


@dataclass
class _Draft:
    """A passage being assembled before ids and links are assigned."""

    kind: str
    parts: list[str]
    section: str
    anchor: str | None
    question: str | None = None
    items: list[str] = field(default_factory=list)
    rule: str | None = None

    def text(self) -> str:
        lines = [" ".join(self.parts)] if self.parts else []
        lines += [f"- {item}" for item in self.items]
        return "\n".join(line for line in lines if line)

    def word_count(self) -> int:
        return word_count(self.text())


def is_faq_heading(text: str) -> bool:
    """True for headings such as "FAQ", "Frequently Asked Questions", "Häufig gestellte Fragen" or "常见问题"."""
    return bool(FAQ_HEADING.match(text) or _FAQ_HEADING_END.search(text))


def is_question(text: str) -> bool:
    """True for text ending with a question mark of any script (closing quotes and brackets aside)."""
    return text.rstrip().rstrip("\"”’)»").endswith(QUESTION_MARKS)


def text_fragment_link(url: str, text: str, words: int = 8) -> str:
    """Deep link that makes a browser scroll to text: url#:~:text=<first words>."""
    start = " ".join(text.split()[:words]).rstrip(":;,")
    # Text fragments reserve '-', '&' and ',' as syntax, so they must be escaped too.
    return f"{url.split('#')[0]}#:~:text={quote(start, safe='').replace('-', '%2D')}"


def _split_long(text: str) -> list[str]:
    """Cut text at sentence ends into chunks of about SPLIT_WORDS words (each chunk as written)."""
    if word_count(text) <= SPLIT_WORDS:
        return [text]
    ends = [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    chunks, start, words, last = [], 0, 0, 0
    for end in ends:
        n = word_count(text[last:end])
        if words and words + n > SPLIT_WORDS:
            chunks.append(text[start:last].strip())
            start, words = last, 0
        words += n
        last = end
    chunks.append(text[start:].strip())
    return [c for c in chunks if c]


def _faq_drafts(blocks: list[Block], start: int, heading: Block) -> tuple[list[_Draft], int]:
    """Pair questions with answers inside an FAQ section; return drafts and the index after it."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    listed = False  # the current heading groups a list of questions (see _lists_questions)
    i = start
    while i < len(blocks):
        block = blocks[i]
        is_question_heading = block.kind == "heading" and (block.level > heading.level or is_question(block.text))
        if block.kind == "heading" and not is_question_heading:
            break
        if is_question_heading or (block.kind == "paragraph" and is_question(block.text)):
            question = question_line(block.text) or strip_question_number(block.text)
            current = _Draft("faq", [], heading.text, block.anchor, question=question, rule="faq-section")
            drafts.append(current)
            listed = False
        elif block.kind == "item" and is_question(block.text) and (listed or _lists_questions(current)):
            current = _Draft("faq", [], heading.text, block.anchor, question=block.text, rule="faq-section")
            drafts.append(current)
            listed = True
        elif block.kind in ("qa", "term"):  # in an FAQ section even a term without "?" is a question
            drafts.append(_Draft("faq", [block.text], heading.text, block.anchor, question=block.question,
                                 rule=block.rule))
            current = None
        elif current is not None:
            if block.kind == "item":
                current.items.append(block.text)
            else:
                current.parts.append(answer_line(block.text) or block.text)
        i += 1
    return [d for d in drafts if d.text()], i


def _lists_questions(current: _Draft | None) -> bool:
    """A sub-heading of an FAQ section that is no question, with a question item right under it, is a category
    ("Setup", "Usage"): its question items are the pairs, not one answer to the heading."""
    return current is not None and not is_question(current.question or "") and not current.text()


def _paragraph_drafts(blocks: list[Block], section: str, anchor: str | None) -> list[_Draft]:
    """Group a section's paragraphs with the list items they introduce; merge tiny fragments."""
    drafts: list[_Draft] = []
    for block in blocks:
        if block.kind == "item":
            if drafts and not drafts[-1].items and drafts[-1].word_count() + word_count(block.text) < 2 * SPLIT_WORDS:
                drafts[-1].items.append(block.text)
            elif drafts and drafts[-1].items and drafts[-1].word_count() < 2 * SPLIT_WORDS:
                drafts[-1].items.append(block.text)
            else:
                drafts.append(_Draft("paragraph", [], section, anchor, items=[block.text]))
            continue
        for chunk in _split_long(block.text):
            drafts.append(_Draft("paragraph", [chunk], section, anchor))
    merged: list[_Draft] = []
    for draft in drafts:
        if merged and (draft.word_count() < MIN_WORDS or merged[-1].word_count() < MIN_WORDS) and not merged[-1].items:
            merged[-1].parts += draft.parts
            merged[-1].items += draft.items
        else:
            merged.append(draft)
    return merged


def _faq_page_blocks(article: Article) -> list[Block]:
    """A page titled like an FAQ ("FAQ: General") is one FAQ section: its headings are the questions.

    The title stands as the section's heading before the first heading or question; text above it stays.
    """
    blocks = list(article.blocks)
    if not is_faq_heading(article.title) or any(b.kind == "heading" and is_faq_heading(b.text) for b in blocks):
        return blocks
    first = next((i for i, b in enumerate(blocks) if b.kind == "heading" or is_question(b.text)), None)
    if first is None:
        return blocks
    return blocks[:first] + [Block("heading", article.title, level=1)] + blocks[first:]


def _term_drafts(block: Block) -> list[_Draft]:
    """An API entry, glossary term or option (<dt>/<dd>): passages of kind "term", the term as question and section.

    Not FAQ pairs: the term is indexed like a question (so "what is X?" finds its definition) but gets no FAQ
    standing; a long definition is cut like a paragraph, each part keeping its term.
    """
    term = block.question or ""
    drafts = _paragraph_drafts([Block("paragraph", block.text)], term, block.anchor)
    for draft in drafts:
        draft.kind, draft.question = "term", term or None
    return drafts


def extract_passages(article: Article, article_id: str) -> list[Passage]:
    """Split an article into FAQ-pair and paragraph passages, in reading order."""
    blocks = _faq_page_blocks(article)
    structured = [_Draft("faq", [f.answer], "", f.anchor, question=f.question, rule=f.rule or None)
                  for f in article.faqs]
    structured_questions = {_norm(d.question) for d in structured}
    drafts: list[_Draft] = []
    section, anchor = "", None
    pending: list[Block] = []
    outline: dict[int, str] = {}  # the latest heading text at each level above the current block

    def flush_paragraphs():
        drafts.extend(_paragraph_drafts(pending, section, anchor))
        pending.clear()

    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "heading" and is_faq_heading(block.text):
            flush_paragraphs()
            faq, i = _faq_drafts(blocks, i + 1, block)
            if not structured:  # structured data (FAQPage) wins over the visible copy
                drafts.extend(faq)
            visible_anchors = {_norm(d.question): d.anchor for d in faq if d.anchor}
            for d in structured:
                d.section = d.section or block.text
                # The visible copy's heading id gives the structured pair a deep link.
                d.anchor = d.anchor or visible_anchors.get(_norm(d.question))
            continue
        pair, after = _question_pair(blocks, i, _enclosing(outline, block, section))
        if pair is not None:
            flush_paragraphs()
            if _norm(pair.question) not in structured_questions:
                drafts.append(pair)
            i = after
            continue
        if block.kind == "heading":
            flush_paragraphs()
            section, anchor = block.text, block.anchor
            outline = {level: text for level, text in outline.items() if level < block.level}
            outline[block.level] = block.text
        elif block.kind == "term":
            flush_paragraphs()
            drafts.extend(_term_drafts(block))
        elif block.kind == "qa":
            flush_paragraphs()
            if _norm(block.question) not in structured_questions:
                drafts.append(_Draft("faq", [block.text], section, block.anchor, question=block.question,
                                     rule=block.rule))
        else:
            pending.append(block)
        i += 1
    flush_paragraphs()
    drafts = structured + drafts
    title_indexed = not title_is_opening(article)
    return [_passage(article, article_id, n, d, title_indexed) for n, d in enumerate(drafts) if d.text()]


PLACEHOLDER_TITLE_WORDS = 5  # shorter titles that open the text are often the real name ("Oxygen is ...")


def title_is_opening(article: Article) -> bool:
    """Whether the title is only the first words (5 or more) of the article's text, cut off as a placeholder.

    Such a title (a page titled by its first sentence; the XQuAD dev sets') repeats the opening
    paragraph and says nothing about where the other passages stand, so it is not indexed as their
    context: indexed, it lowered Hit@1 in 10 of the 11 XQuAD languages (docs/languages.md).
    """
    title = words(article.title)
    if len(title) < PLACEHOLDER_TITLE_WORDS:
        return False
    opening = next((b.text for b in article.blocks if b.kind in ("paragraph", "item")), "")
    return words(opening[:len(article.title) + 100])[:len(title)] == title


def _enclosing(outline: dict[int, str], block: Block, section: str) -> str:
    """The section a question heading stands in: the latest heading above its level, else (at the top
    of the article) the question heading itself."""
    if block.kind != "heading":
        return section
    above = [level for level in outline if level < block.level]
    return outline[max(above)] if above else block.text


def _asks(block: Block) -> str | None:
    """The rule by which a block opens a question outside an FAQ section, or None."""
    if block.kind == "heading" and block.level >= 2 and is_question(block.text):
        return "question-heading"
    if block.kind == "paragraph" and block.rule == "bold-question":
        return "bold-question"
    if block.kind == "paragraph" and (question_line(block.text) or qa_in_one(block.text)):
        return "qa-lines"
    return None


def _question_pair(blocks: list[Block], i: int, section: str) -> tuple[_Draft | None, int]:
    """A question heading, bold question or "Q:" line at blocks[i] with the answer after it.

    The answer runs over every block until the next question or a heading of the same or higher
    level (any heading ends a bold or "Q:" question). Returns (None, i) when blocks[i] asks nothing
    or nothing answers it."""
    block = blocks[i]
    rule = _asks(block)
    if rule is None:
        return None, i
    if rule == "qa-lines" and qa_in_one(block.text):
        question, answer = qa_in_one(block.text)
        return _Draft("faq", [answer], section, block.anchor, question=question, rule=rule), i + 1
    if rule == "qa-lines":
        question = question_line(block.text)
        if i + 1 >= len(blocks) or answer_line(blocks[i + 1].text) is None:
            return None, i
    else:
        question = strip_question_number(block.text)
    level = block.level if rule == "question-heading" else 7
    draft = _Draft("faq", [], section, block.anchor, question=question, rule=rule)
    j = i + 1
    while j < len(blocks):
        nxt = blocks[j]
        if nxt.kind == "qa" or _asks(nxt) or (nxt.kind == "heading" and (nxt.level <= level or is_faq_heading(nxt.text))):
            break
        if nxt.kind == "item":
            draft.items.append(nxt.text)
        else:
            draft.parts.append(answer_line(nxt.text) or nxt.text if nxt.kind == "paragraph" else nxt.text)
        j += 1
    return (draft, j) if draft.text() else (None, i)


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _passage(article: Article, article_id: str, n: int, draft: _Draft, title_indexed: bool = True) -> Passage:
    url = article.url or ""
    text = draft.text()
    if draft.anchor:
        link = f"{url.split('#')[0]}#{draft.anchor}"
    elif draft.kind in ("faq", "term"):
        link = text_fragment_link(url, draft.question or text)
    else:
        link = text_fragment_link(url, draft.parts[0] if draft.parts else draft.items[0])
    return Passage(
        id=f"{article_id}#{n}",
        article=article_id,
        kind=draft.kind,
        question=draft.question,
        text=text,
        title=article.title,
        section=draft.section,
        url=url,
        link=link,
        rule=draft.rule if draft.kind == "faq" else None,
        title_indexed=title_indexed,
    )
