"""Human output of `faqbot ask`: plain when piped, colour/highlights/links only on a terminal."""

import io
import os
import re
import sys

import pexpect
import pytest

from faqbot.search.answer import ask
from faqbot.cli import cli
from faqbot.index.store import Index
from faqbot.terminal import Style, clean, format_ask, strip_escapes

SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def refund_response(index_dir):
    return ask(Index.load(index_dir), "how long does a refund take", 3)


class FakeStream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


@pytest.mark.parametrize("tty, environ, colour", [
    (True, {"TERM": "xterm-256color"}, True),
    (True, {"TERM": "xterm-256color", "NO_COLOR": ""}, False),  # any value, even empty, turns it off
    (True, {"TERM": "dumb"}, False),
    (False, {"TERM": "xterm-256color"}, False),
])
def test_colour_only_on_a_terminal_without_no_color(tty, environ, colour):
    style = Style.detect(FakeStream(tty), environ)
    assert (style.color, style.links) == (colour, colour)


def test_plain_output_is_the_classic_text(refund_response):
    assert format_ask(refund_response).splitlines()[:6] == [
        "Q: How long does a refund take?",
        "Refunds reach your card within five working days.",
        "",
        "Source: Refunds and returns > Frequently Asked Questions",
        "Link:   /articles/refunds#:~:text=How%20long%20does%20a%20refund%20take%3F",
        "Score:  7.60   confidence 96%",
    ]


def test_colour_output_highlights_matches_bold_and_underlined(refund_response):
    out = format_ask(refund_response, Style(color=True, links=True))
    # Bold + underline + colour: a match is visible without colour perception.
    assert "\x1b[1m\x1b[4m\x1b[33mrefund\x1b[0m" in out
    assert "\x1b[1m\x1b[4m\x1b[33mRefunds\x1b[0m reach your card" in out
    assert "card" not in re.findall(r"\x1b\[33m(\w+)", out)
    # Without the escapes it is the plain text plus the confidence said in words.
    assert strip_escapes(out) == format_ask(refund_response).replace("confidence 96%", "confidence 96% (high)")


def test_absolute_links_become_osc8_hyperlinks(index_dir):
    response = ask(Index.load(index_dir), "reset my password", 3)
    out = format_ask(response, Style(color=True, links=True))
    link = "https://example.com/help/account#reset"
    assert f"\x1b]8;;{link}\x1b\\{link}\x1b]8;;\x1b\\" in out
    # A site-relative link cannot be opened by a terminal: it stays text.
    assert Style(links=True).link("/articles/refunds") == "/articles/refunds"


def test_article_text_cannot_send_terminal_escapes():
    assert clean("fine\x1b]8;;http://evil\x07text\x1b[2J") == "fine]8;;http://eviltext[2J"


def test_ask_top_prints_a_table_of_alternatives(runner, index_dir):
    result = runner.invoke(cli, ["ask", "how long does a refund take", "--top", "3", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("Top passages:")
    assert lines[start + 1] == " #   Score  Conf.  Match   Passage"
    assert lines[start + 2] == " 1    7.60    96%  answer  How long does a refund take? (Refunds and returns)"
    assert lines[start + 3].strip() == "/articles/refunds#:~:text=How%20long%20does%20a%20refund%20take%3F"
    assert lines[start + 4].startswith(" 2 ")
    assert "\x1b" not in result.output


def _spawn_ask(index_dir, extra_env):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_") and k != "NO_COLOR"},
           "TERM": "xterm-256color", "FAQBOT_SEMANTIC": "0", **extra_env}
    child = pexpect.spawn(sys.executable, ["-m", "faqbot", "ask", "how long does a refund take", "--index",
                                           str(index_dir)], env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_ask_on_a_real_terminal_is_coloured_and_no_color_is_plain(index_dir):
    status, out = _spawn_ask(index_dir, {})
    assert status == 0
    assert "\x1b[1m\x1b[4m\x1b[33mrefund\x1b[0m" in out
    status, out = _spawn_ask(index_dir, {"NO_COLOR": "1"})
    assert status == 0
    assert not SGR.search(out)
    assert "Refunds reach your card within five working days." in out


def test_an_uncertain_response_lists_the_questions_and_no_answer_text(refund_response):
    first, other = refund_response["results"][0], refund_response["results"][1]
    response = {**refund_response, "answer": None, "uncertain": True, "did_you_mean": [other]}
    lines = format_ask(response).splitlines()
    assert lines[0] == "Not sure which question you mean:"
    assert lines[1].startswith(f"  - {first['question']}  ") and lines[2].startswith(f"  - {(other['question'] or other['text'])[:20]}")
    assert first["text"] not in format_ask(response)
