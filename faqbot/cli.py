"""The `faqbot` command: index, ask, serve, inspect."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .search.answer import AnswerSettings, ask as answer_question
from .config import Settings, default_help, load_settings
from .errors import FaqbotError
from .index.store import Index


def _settings(ctx: click.Context, **overrides) -> Settings:
    return load_settings(overrides)


def _progress(label: str):
    """A progress callback that draws a bar on a terminal and stays silent otherwise."""
    if not sys.stderr.isatty():
        return None
    state = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state.get("done", 0))
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return update


COMPLETION_HELP = """\b
Shell completion (bash, zsh or fish), e.g. in ~/.bashrc:
  eval "$(_FAQBOT_COMPLETE=bash_source faqbot)"
  (zsh: zsh_source in ~/.zshrc; fish: _FAQBOT_COMPLETE=fish_source faqbot | source)

\b
Settings come from faqbot.toml, then FAQBOT_<NAME> variables, then flags."""


class FaqbotGroup(click.Group):
    """The faqbot command: an expected problem (FaqbotError) anywhere in a command is one line on stderr, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FaqbotError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=FaqbotGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=COMPLETION_HELP)
@click.version_option(__version__, prog_name="faqbot")
def cli():
    """faqbot: answer readers' questions from your articles.

    \b
    Quick start:
      faqbot index corpus/                # build the index
      faqbot ask "what is open source AI?"
      faqbot chat                         # interactive session for support staff
      faqbot serve                        # API + chat widget on http://127.0.0.1:8000
      faqbot report --since 7d            # what readers asked, what went unanswered
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--index", "index_dir", metavar="DIR", help=f"Index directory {default_help('index_dir')[:-1]}, or FAQBOT_INDEX_DIR].")
@click.option("--base-url", metavar="URL", help=f"URL prefix for articles without their own URL {default_help('base_url')}.")
@click.option("--url-style", type=click.Choice(["file", "pretty"]),
              help=f"URLs of HTML files: guide.html (file) or guide (pretty) {default_help('url_style')}.")
@click.option("--sitemap", "sitemaps", multiple=True, metavar="URL", help="Index the pages of this sitemap (repeatable).")
@click.option("--urls", "url_lists", multiple=True, metavar="FILE", help="Index the pages listed in FILE, one URL a line.")
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of re-reading only new or changed sources.")
@click.option("--lang", metavar="TAG", help="Language of articles that declare none and are not detected [default: English].")
@click.pass_context
def index(ctx, paths, index_dir, base_url, url_style, sitemaps, url_lists, full, lang):
    """Index articles (.txt, .md, .html) from PATHS (files or folders, recursive) and web pages.

    Only new or changed sources are read again. With no PATHS, --sitemap or --urls, indexes the
    configured sources, sitemaps and URL lists.

    \b
    Examples:
      faqbot index                        # the configured sources (default: corpus/)
      faqbot index docs/ blog/ --base-url https://example.com/blog/
      faqbot index site/ --base-url https://docs.example.com/   # ref/api.html -> .../ref/api.html
      faqbot index --sitemap https://example.com/sitemap.xml
      faqbot index --full                 # rebuild from scratch
    """
    from .index.refresh import refresh, summary_lines

    settings = _settings(ctx, index_dir=index_dir, base_url=base_url, url_style=url_style, lang=lang)
    try:
        report = refresh(settings, paths, sitemaps, url_lists, full, progress=_progress("Reading"),
                         crawl_progress=_progress("Fetching"), embed_progress=_progress("Embedding"))
    except OSError as err:  # a full disk or a read-only folder: the published index is untouched
        raise click.ClickException(
            f"Cannot write the index in {settings.index_dir}: {err.strerror or err}. The previous index is unchanged."
        ) from None
    click.echo(
        f"Indexed {report.articles} articles: {report.faq_pairs} FAQ pairs, {report.paragraphs} paragraphs "
        f"in {report.seconds:.2f}s -> {settings.index_dir}"
    )
    if report.skipped:
        count = len(report.skipped)
        click.echo(f"Skipped {count} {'file' if count == 1 else 'files'}:")
        for skipped in report.skipped:
            click.echo(f"  {skipped.path}: {skipped.reason}")
    for line in summary_lines(report):
        click.echo(line)


def _load_index(settings: Settings) -> Index:
    return Index.load(settings.index_dir)


@cli.command()
@click.argument("question")
@click.option("--top", "top_k", type=click.IntRange(1, 50), default=None, help=f"How many passages to show {default_help('top_k')}.")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly the API's JSON response.")
@click.option("--log", "log_it", is_flag=True, help="Record the question in the question log [default: off].")
@click.option("--lang", metavar="TAG", default=None,
              help="The question's language (BCP 47: de, pt-BR) [default: the index's, or detected].")
@click.pass_context
def ask(ctx, question, top_k, index_dir, as_json, log_it, lang):
    """Answer QUESTION from the index.

    Prints the answer with its matching words highlighted, its source and deep link (clickable
    in terminals that support links), score and confidence; --top K adds a table of the K best
    passages. Colour only on a terminal and never with NO_COLOR set. Staff questions are not
    written to the question log unless you pass --log.

    \b
    Examples:
      faqbot ask "What are the main challenges of open source AI?"
      faqbot ask "refund policy" --top 3
      faqbot ask "refund policy" --json | jq .answer.link
    """
    settings = _settings(ctx, index_dir=index_dir)
    index = _load_index(settings)
    response = answer_question(index, question, top_k or settings.top_k, AnswerSettings.configured(settings), lang)
    if log_it:
        _question_log(settings).record_question(response["question"], response)
    if as_json:
        click.echo(json.dumps(response, ensure_ascii=False))
        return
    from .terminal import Style, format_ask

    click.echo(format_ask(response, Style.detect(sys.stdout, os.environ), top_k))


@cli.command()
@click.option("--host", default=None, help=f"Interface to listen on {default_help('host')}.")
@click.option("--port", type=int, default=None, help=f"Port {default_help('port')}.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help=f"Server processes {default_help('workers')}.")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory.")
@click.pass_context
def serve(ctx, host, port, workers, index_dir):
    """Run the HTTP API and chat widget (indexes the configured sources first if there is no index).

    \b
    Example:
      faqbot serve --port 8080
    """
    from .index.refresh import refresh
    from .serve.server import run_server

    settings = _settings(ctx, index_dir=index_dir, host=host, port=port, workers=workers)
    if not (Path(settings.index_dir) / "manifest.json").exists():
        click.echo(f"No index in {settings.index_dir}: indexing {', '.join(settings.sources)} first.")
        refresh(settings)  # the same build as `faqbot index`, so its cache serves the next re-index
    _load_index(settings)
    run_server(settings)


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--base-url", metavar="URL", help="URL prefix for articles without their own URL.")
@click.option("--url-style", type=click.Choice(["file", "pretty"]), help="URLs of HTML files: guide.html or guide.")
@click.option("--lang", metavar="TAG", help="Language of articles that declare none and are not detected [default: English].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of articles with their passages.")
@click.pass_context
def inspect(ctx, path, base_url, url_style, lang, as_json):
    """Show what faqbot extracts from a file or folder, without indexing.

    \b
    Examples:
      faqbot inspect corpus/bike-commuting.md
      faqbot inspect site/ --json | jq '.[0].passages'
    """
    from .ingest.extract import extract_passages
    from .index.pipeline import load_articles

    settings = _settings(ctx, base_url=base_url, url_style=url_style, lang=lang)
    articles, skipped = load_articles([path], settings.base_url, url_style=settings.url_style,
                                      default_lang=settings.lang)
    out = []
    for article_id, article in articles:
        passages = extract_passages(article, article_id)
        out.append({
            "title": article.title, "url": article.url, "lang": article.lang, "lang_source": article.lang_source,
            "sections": list(dict.fromkeys(p.section for p in passages if p.section)),
            # "rule": which FAQ rule found a pair (faq_rules.py); None for paragraphs.
            "passages": [{**p.to_dict(), "rule": p.rule} for p in passages],
            **({"notes": list(article.notes)} if article.notes else {}),
        })
    if as_json:
        click.echo(json.dumps([{k: v for k, v in a.items() if k != "sections"} for a in out], ensure_ascii=False, indent=2))
    else:
        for article in out:
            faqs = [p for p in article["passages"] if p["kind"] == "faq"]
            click.echo(f"{article['title']}\n  url: {article['url']}\n  lang: {article['lang'] or '-'} "
                       f"({article['lang_source'] or '-'})")
            for note in article.get("notes", ()):
                click.echo(f"  note: {note}")
            click.echo(f"  sections: {' | '.join(article['sections']) or '-'}")
            click.echo(f"  FAQ pairs ({len(faqs)}):")
            for p in faqs:
                click.echo(f"    Q: {p['question']}  [{p['rule'] or '-'}]\n       A: {_short(p['text'])}")
            paragraphs = [p for p in article["passages"] if p["kind"] == "paragraph"]
            click.echo(f"  paragraphs ({len(paragraphs)}):")
            for p in paragraphs:
                click.echo(f"    [{p['section'] or '-'}] {_short(p['text'])}")
            terms = [p for p in article["passages"] if p["kind"] == "term"]
            if terms:
                click.echo(f"  terms ({len(terms)}):")
                for p in terms:
                    click.echo(f"    {p['question']}: {_short(p['text'])}")
    for s in skipped:
        click.echo(f"Skipped {s.path}: {s.reason}", err=True)
    if not articles:
        raise click.ClickException(f"Nothing extractable in {path}.")


@cli.command("eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False))
@click.option("--index", "index_dir", metavar="DIR",
              help="Evaluate this index [default: index the articles/ folder beside QUERIES into a temporary index].")
@click.option("--articles", "articles_dir", type=click.Path(file_okay=False), help="Articles folder [default: articles/ beside QUERIES].")
@click.option("--misses", type=int, default=20, show_default=True, help="How many misses to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.pass_context
def eval_command(ctx, queries, index_dir, articles_dir, misses, as_json):
    """Measure answer quality on a labelled QUERIES.jsonl file.

    Prints Hit@1, Hit@3 and MRR@10 overall and per kind (faq / paragraph), no-answer precision
    and recall when the set has out-of-scope queries ("gold": []), and the misses.

    \b
    Example:
      faqbot eval ../shared/eval/queries.jsonl
    """
    import tempfile

    from .index.vectors import configured_embedder
    from .ops.evaluate import answer_ranker, evaluate, format_report, load_queries
    from .search.lexical import warm_up
    from .index.incremental import index_sources

    settings = _settings(ctx, index_dir=index_dir)
    queries_path = Path(queries)
    articles = Path(articles_dir) if articles_dir else queries_path.parent / "articles"
    try:
        labelled = load_queries(queries_path)
    except (ValueError, KeyError) as err:
        raise click.ClickException(f"{queries}: not a queries file ({err}).") from None
    with tempfile.TemporaryDirectory() as tmp:
        if index_dir is None:
            if not articles.is_dir():
                raise click.ClickException(f"No articles folder at {articles}; pass --index or --articles.")
            index_sources([articles], tmp, settings.base_url, embedder=configured_embedder(settings), url_style=settings.url_style,
                        default_lang=settings.lang, multilingual=settings.multilingual_semantic)
        index = _load_index(settings if index_dir else load_settings({"index_dir": tmp}))
        warm_up(index)  # long run: the compiled search kernel pays for its import
        passages = [index.passage(i) for i in range(index.n_passages)]
        report = evaluate(answer_ranker(index, AnswerSettings.configured(settings)), labelled, passages,
                          articles if articles.is_dir() else None)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report, misses))


def _question_log(settings: Settings):
    from .ops.qlog import QuestionLog

    return QuestionLog(settings.question_log_path, settings.log_retention_days)


@cli.command(short_help="Interactive question-and-answer session for support staff.")
@click.option("--top", "top_k", type=click.IntRange(1, 50), default=None, help=f"Passages fetched per question {default_help('top_k')}.")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory.")
@click.option("--history", type=click.Path(dir_okay=False), default=None,
              help="History file [default: chat_history beside the question log].")
@click.option("--log", "log_it", is_flag=True, help="Record the questions in the question log [default: off].")
@click.option("--lang", metavar="TAG", default=None,
              help="The questions' language (BCP 47: de, pt-BR) [default: the index's, or detected].")
@click.pass_context
def chat(ctx, top_k, index_dir, history, log_it, lang):
    """Ask question after question in an interactive session (for support staff).

    Type a question and press Enter. Line editing and history work as in a shell (arrow keys,
    Ctrl-R). Commands: :top N lists the N best passages for the last question, :open N shows
    passage N in full, :help, :quit (or Ctrl-D). Every state is said in words, so it works with a
    screen reader; colour only on a terminal and never with NO_COLOR set. Questions are not written
    to the question log unless you pass --log.

    \b
    Examples:
      faqbot chat
      faqbot chat --index site-index/ --top 10
      NO_COLOR=1 faqbot chat
    """
    from .chat import ChatSession, run
    from .search.lexical import warm_up
    from .terminal import Style

    settings = _settings(ctx, index_dir=index_dir)
    index = _load_index(settings)
    warm_up(index)  # a session of many questions: the compiled search kernel pays for its import
    session = ChatSession(index, AnswerSettings.configured(settings), Style.detect(sys.stdout, os.environ), click.echo,
                          top_k or settings.top_k, _question_log(settings) if log_it else None, lang)
    from .ops.storage import is_postgres

    beside = Path(settings.index_dir).resolve() if is_postgres(settings.question_log_path) else Path(settings.question_log_path)
    run(session, Path(history) if history else beside.parent / "chat_history")


@cli.command(short_help="Question-log report: most asked, unanswered, not helpful.")
@click.option("--since", default="7d", show_default=True, metavar="WHEN",
              help="Start of the period: 24h, 7d, 2w, a date (2024-05-01) or all.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Rows per section.")
@click.option("--log", "log_path", metavar="FILE|URL", default=None,
              help="Question log: a SQLite file or a postgresql:// URL [default: the question_log setting, "
                   "else questions.sqlite beside the index].")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory (for article titles).")
@click.pass_context
def report(ctx, since, fmt, limit, log_path, index_dir):
    """Summarise the question log: most asked, unanswered, not helpful, top articles.

    Unanswered questions that are the same question in other words ("how much does it cost" /
    "what is the price") are grouped, by sentence embeddings when semantic ranking is on, else
    by shared words. The same report is a web page at /admin/report (set admin_token).

    \b
    Examples:
      faqbot report
      faqbot report --since 30d --limit 20
      faqbot report --since 2024-05-01 --format csv > questions.csv
      faqbot report --format json | jq '.unanswered[0]'
    """
    import time

    from .index.vectors import configured_embedder
    from .ops.report import build_report, parse_since, render_csv, render_json, render_table

    settings = _settings(ctx, index_dir=index_dir, question_log=log_path)
    try:
        index = Index.load(settings.index_dir)
    except FaqbotError:
        index = None  # titles are a nicety: report from the log alone
    now = time.time()
    data = build_report(settings.question_log_path, parse_since(since, now), now,
                        embedder=configured_embedder(settings), index=index, limit=limit)
    render = {"table": render_table, "csv": render_csv, "json": render_json}[fmt]
    click.echo(render(data), nl=fmt != "csv")


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main():
    """Console-script entry point."""
    cli(prog_name="faqbot")
