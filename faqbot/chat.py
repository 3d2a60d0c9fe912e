"""`faqbot chat`: an interactive question-and-answer session for support staff.

Line editing and history come from readline (history kept in a file between sessions). Output is
plain sentences plus optional colour, so it reads well in a screen reader: every state is said in
words, and the prompt is a short fixed string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .search.answer import ask
from .errors import FaqbotError
from .terminal import DIM, Style, alternatives, format_answer, format_passage, format_table

PROMPT = "faqbot> "
HISTORY_LENGTH = 1000
HELP = """Type a question and press Enter. Commands:
  :top [N]    list the top N passages for the last question (default 5)
  :open N     show passage N of the last list in full
  :help       this help
  :quit       leave (also :q, Ctrl-D)"""


class ChatSession:
    """One session: answers questions and runs `:` commands; the I/O functions are injectable."""

    def __init__(self, index, answer_settings, style: Style = Style(), write: Callable[[str], None] = print,
                 top_k: int = 5, log=None, lang: str | None = None):
        self.index = index
        self.answer_settings = answer_settings
        self.style = style
        self.write = write
        self.top_k = top_k
        self.log = log  # a QuestionLog when staff questions should be logged, else None
        self.last: dict | None = None
        self.lang = lang  # the questions' language, None to use the index's or detect it

    def ask(self, question: str, top_k: int | None = None) -> None:
        """Answer a question and print the answer block."""
        try:
            self.last = ask(self.index, question, max(top_k or 0, self.top_k), self.answer_settings, self.lang)
        except FaqbotError as err:
            self.write(f"Error: {err}")
            return
        if self.log is not None:
            self.log.record_question(self.last["question"], self.last)
        self.write(format_answer(self.last, self.style))
        more = len(alternatives(self.last)) - (1 if self.last["answer"] else 0)
        if more > 0:
            self.write(self.style.paint(f"({more} more: :top to list them, :open N to read one)", DIM))

    def top(self, arg: str) -> None:
        """`:top [N]`: the table of the last question's top N passages (asks again if N is larger)."""
        if self.last is None:
            self.write("Ask a question first.")
            return
        n = self._number(arg, default=self.top_k, high=50)
        if n is None:
            return
        if n > len(self.last["results"]):
            self.last = ask(self.index, self.last["question"], n, self.answer_settings, self.lang)
        self.write(format_table(self.last, self.style, n))

    def open(self, arg: str) -> None:
        """`:open N`: passage N of the last list in full."""
        if self.last is None:
            self.write("Ask a question first.")
            return
        rows = alternatives(self.last)
        if not rows:
            self.write("No passages to open.")
            return
        n = self._number(arg, default=None, high=len(rows))
        if n is not None:
            self.write(format_passage(rows[n - 1], n, self.style, self.last["question"]))

    def _number(self, arg: str, default: int | None, high: int) -> int | None:
        if not arg and default is not None:
            return default
        if not arg.isdigit() or not 1 <= int(arg) <= high:
            self.write(f"Give a number from 1 to {high}.")
            return None
        return int(arg)

    def handle(self, line: str) -> bool:
        """Run one input line; return False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith(":"):
            self.ask(line)
            return True
        command, _, arg = line[1:].partition(" ")
        command, arg = command.lower(), arg.strip()
        if command in ("quit", "q", "exit"):
            return False
        if command == "top":
            self.top(arg)
        elif command == "open":
            self.open(arg)
        elif command in ("help", "h", "?"):
            self.write(HELP)
        else:
            self.write(f"Unknown command :{command}. Type :help for the list.")
        return True


def _setup_readline(history: Path | None):
    """Enable line editing and load the history; return the readline module (or None)."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return None
    readline.set_history_length(HISTORY_LENGTH)
    if history is not None and history.exists():
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    return readline


def run(session: ChatSession, history: Path | None = None, read: Callable[[str], str] = input) -> None:
    """The read-answer loop until :quit, Ctrl-D or Ctrl-C; saves the history file on the way out."""
    readline = _setup_readline(history) if read is input else None
    session.write("faqbot chat. Type a question, :help for commands, :quit to leave.")
    try:
        while True:
            try:
                line = read(PROMPT)
            except (EOFError, KeyboardInterrupt):
                session.write("")
                break
            if not session.handle(line):
                break
    finally:
        if readline is not None and history is not None:
            try:
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history)
            except OSError:
                pass
