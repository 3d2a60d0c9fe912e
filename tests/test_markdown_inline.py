"""The linear inline Markdown parser: the same words as the old regular expressions, in linear time."""

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from faqbot.ingest.read_markdown import inline_text, read_markdown

# The expressions faqbot used before (quadratic on some inputs): the reference the parser must match.
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`+([^`]*)`+")


def reference_inline_text(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _TAG.sub("", text)
    for _ in range(2):
        text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("\\", "")
    return " ".join(text.split())


MARKUP = st.text(alphabet="*_~[]()!<>`/\\#{}: \n\tab\u00a0", max_size=60)
PIECES = st.lists(st.sampled_from(["**", "*", "__", "_", "~~", "~", "[", "](", ")", "][", "]", "![", "<", ">",
                                   "<https://x.org", "<http://", "`", "``", "<a ", "</b>", " ", "\n", "a", "bc",
                                   "\u00a0", "\\"]), max_size=40).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(MARKUP, PIECES))
def test_inline_text_matches_the_old_expressions(text):
    assert inline_text(text) == reference_inline_text(text)


def test_inline_text_examples():
    assert inline_text("**Bold** and _it_ with [a link](https://x.org) and `code` <b>x</b>") == \
        "Bold and it with a link and code x"
    assert inline_text("***both*** ~~gone~~ ![alt](i.png) <https://a.org/b>") == "both gone alt https://a.org/b"


def test_headings_keep_their_text_and_anchor():
    article = read_markdown("# Title ##\n\n## Why {#why .cls} \n\nBecause it is so, in every case we know.\n")
    assert article.title == "Title"
    assert (article.blocks[0].text, article.blocks[0].anchor) == ("Why", "why")


ADVERSARIAL = ["*a ", "_a ", "**a ", "~~a ", "[a ", "![a ", "<http://a", "<a", "# a #", "{#a "]


def test_adversarial_inline_markup_is_read_in_linear_time():
    """100,000 repeats of each pattern took minutes with the old expressions (8,000 `*a `: 2-4 s)."""
    script = (
        "from faqbot.ingest.read_markdown import read_markdown\n"
        f"for piece in {ADVERSARIAL!r}:\n"
        "    read_markdown('## x ' + piece * 100_000 + '}\\n\\nSome text to keep.\\n')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
