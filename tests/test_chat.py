"""`faqbot chat`: a real pseudo-terminal session (pexpect), the commands, and no logging by default."""

import os
import re
import sys

import pexpect
import pytest

from faqbot.search.answer import AnswerSettings
from faqbot.chat import ChatSession
from faqbot.cli import cli
from faqbot.index.store import Index
from faqbot.ops.qlog import QuestionLog

SGR = re.compile(r"\x1b\[[0-9;]*m")
PROMPT = "faqbot> "
UP = "\x1b[A"
BACKSPACE = "\x7f"


def _spawn(index_dir, history, env_extra=None):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_") and k != "NO_COLOR"},
           "TERM": "xterm-256color", "FAQBOT_SEMANTIC": "0", **(env_extra or {})}
    return pexpect.spawn(sys.executable, ["-m", "faqbot", "chat", "--index", str(index_dir), "--history", str(history)],
                         env=env, encoding="utf-8", timeout=30, dimensions=(40, 120))


def test_chat_in_a_real_terminal_question_top_open_quit(index_dir, tmp_path):
    child = _spawn(index_dir, tmp_path / "history")
    child.expect_exact("Type a question, :help for commands, :quit to leave.")
    child.expect_exact(PROMPT)
    child.sendline("how long does a refund take")
    child.expect_exact("\x1b[1m\x1b[4m\x1b[33mRefunds\x1b[0m reach your card within five working days.")
    child.expect_exact("Source:")
    child.expect_exact("Refunds and returns > Frequently Asked Questions")
    child.expect_exact(PROMPT)

    child.sendline(":top 3")
    child.expect(r" 1 +7\.60 +96% +answer +How long does a refund take\? \(Refunds and returns\)")
    child.expect(r"\n 2 +\d+\.\d\d +\d+% ")
    child.expect(r"\n 3 +\d+\.\d\d +\d+% ")
    child.expect_exact(PROMPT)
    table = SGR.sub("", child.before)
    assert " 4 " not in table

    child.sendline(":open 1")
    child.expect_exact("Passage 1: Refunds and returns > Frequently Asked Questions")
    child.expect_exact("id refunds#")
    child.expect_exact(PROMPT)

    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (tmp_path / "history").read_text().splitlines() == [
        "how long does a refund take", ":top 3", ":open 1", ":quit"]


def test_chat_line_editing_and_history_with_readline(index_dir, tmp_path):
    history = tmp_path / "history"
    history.write_text("how do I reset my password\n")
    child = _spawn(index_dir, history, {"NO_COLOR": "1"})
    child.expect_exact(PROMPT)
    child.send(UP + "\r")  # the previous session's question comes back with the up arrow
    child.expect_exact("Use the forgotten password link on the sign-in page")
    child.expect_exact(PROMPT)
    child.send("how long does a refunX" + BACKSPACE + "d take\r")  # edit the line before Enter
    child.expect_exact("Refunds reach your card within five working days.")
    child.expect_exact(PROMPT)
    output = child.before
    child.sendeof()  # Ctrl-D leaves like :quit
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not SGR.search(output), "NO_COLOR output must carry no colour codes"
    assert "confidence 96%" in output and "(high)" not in output


@pytest.fixture
def session(index_dir):
    lines = []
    chat = ChatSession(Index.load(index_dir), AnswerSettings(), write=lines.append)
    return chat, lines


def test_chat_commands_answer_in_words(session):
    chat, lines = session
    assert chat.handle(":open 1") is True
    assert chat.handle(":frobnicate") is True
    chat.handle("how long does a refund take")
    chat.handle(":top 2")
    chat.handle(":open 9")
    assert lines[0] == "Ask a question first."
    assert lines[1] == "Unknown command :frobnicate. Type :help for the list."
    assert lines[2].startswith("Q: How long does a refund take?\nRefunds reach your card")
    assert lines[3].startswith("(") and lines[3].endswith("more: :top to list them, :open N to read one)")
    assert lines[4].splitlines()[0] == " #   Score  Conf.  Match   Passage"
    assert len(lines[4].splitlines()) == 1 + 2 * 2
    assert lines[5].startswith("Give a number from 1 to ")
    assert chat.handle(":quit") is False


def test_chat_and_ask_do_not_log_staff_questions_unless_asked(runner, index_dir, tmp_path):
    log_path = tmp_path / "questions.sqlite"  # the default: beside the index directory
    result = runner.invoke(cli, ["ask", "how long does a refund take", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert not log_path.exists()
    result = runner.invoke(cli, ["ask", "how long does a refund take", "--log", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert [(r["question"], r["answered"]) for r in QuestionLog(log_path).rows()] == [("how long does a refund take", 1)]


def test_help_is_complete_with_examples_and_completion(runner):
    result = runner.invoke(cli, ["--help"])
    assert "_FAQBOT_COMPLETE=bash_source faqbot" in result.output
    for command in ("index", "ask", "chat", "serve", "inspect", "eval", "report"):
        assert command in result.output
        sub = runner.invoke(cli, [command, "--help"])
        assert sub.exit_code == 0 and "Example" in sub.output, command
    assert "not written to the question log unless you pass --log" in " ".join(
        runner.invoke(cli, ["chat", "--help"]).output.split())


def test_shell_completion_completes_commands_and_options(runner):
    def complete(words, cword):
        env = {"_FAQBOT_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return runner.invoke(cli, [], env=env, prog_name="faqbot").output.split()

    assert complete("faqbot ch", 1) == ["plain,chat"]
    assert complete("faqbot report --format ", 3) == ["plain,table", "plain,csv", "plain,json"]
