"""Exceptions whose message is a sentence meant for a person (CLI: one line on stderr; API: 4xx)."""


def error_body(message: str) -> dict:
    """The JSON body of every HTTP API error: {"error": a sentence for a person}."""
    return {"error": message}


class ApiError(Exception):
    """An HTTP API error, raised anywhere a request is handled; the app's one handler (faqbot.serve.web)
    answers it as error_body(message) with its status and headers."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


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
