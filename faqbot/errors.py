"""Exceptions whose message is a sentence meant for a person (CLI: one line on stderr; API: 4xx)."""


class FaqbotError(Exception):
    """Base for expected problems reported to the user without a traceback."""


class SkipFile(FaqbotError):
    """A source that cannot be indexed; the message is the reason shown in the summary."""


class BadQuestion(FaqbotError):
    """A question that cannot be searched (empty, too long, wrong type)."""


class IndexMissing(FaqbotError):
    """No index where one was expected."""


class IndexInvalid(FaqbotError):
    """An index directory that is corrupt, truncated or of another format version."""
