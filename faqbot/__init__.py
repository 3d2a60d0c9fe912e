"""faqbot: an FAQ chatbot over article content (BM25 index, CLI, Flask API, chat widget)."""

__version__ = "0.1.0"


def create_app(overrides=None):
    """Build the Flask app (see faqbot.serve.web.create_app)."""
    from .serve.web import create_app as _create_app

    return _create_app(overrides)
