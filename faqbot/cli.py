"""The `faqbot` command: index, ask, serve, inspect."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .answer import ask as answer_question
from .config import Settings, load_settings
from .errors import FaqbotError
from .index import Index


def _settings(ctx: click.Context, **overrides) -> Settings:
    try:
        return load_settings(overrides)
    except FaqbotError as err:
        raise click.ClickException(str(err)) from None


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="faqbot")
def cli():
    """faqbot: answer readers' questions from your articles.

    \b
    Quick start:
      faqbot index corpus/                # build the index
      faqbot ask "what is open source AI?"
      faqbot serve                        # API + chat widget on http://127.0.0.1:8000
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--index", "index_dir", metavar="DIR", help="Index directory [default: .faqbot/index, or FAQBOT_INDEX_DIR].")
@click.option("--base-url", metavar="URL", help="URL prefix for articles without their own URL [default: /articles/].")
@click.pass_context
def index(ctx, paths, index_dir, base_url):
    """Index articles (.txt, .md, .html) from PATHS (files or folders, recursive).

    \b
    Examples:
      faqbot index                        # the configured sources (default: corpus/)
      faqbot index docs/ blog/ --base-url https://example.com/blog/
    """
    from .pipeline import index_paths

    settings = _settings(ctx, index_dir=index_dir, base_url=base_url)
    sources = list(paths) or list(settings.sources)
    try:
        report = index_paths(sources, settings.index_dir, settings.base_url, progress=_progress("Reading"),
                             embedder=settings.embedder(), embed_progress=_progress("Embedding"))
    except FaqbotError as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"Indexed {report.articles} articles: {report.faq_pairs} FAQ pairs, {report.paragraphs} paragraphs "
        f"in {report.seconds:.2f}s -> {settings.index_dir}"
    )
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)} files:")
        for skipped in report.skipped:
            click.echo(f"  {skipped.path}: {skipped.reason}")


def _load_index(settings: Settings) -> Index:
    try:
        return Index.load(settings.index_dir)
    except FaqbotError as err:
        raise click.ClickException(str(err)) from None


@cli.command()
@click.argument("question")
@click.option("--top", "top_k", type=click.IntRange(1, 50), default=None, help="How many passages to show [default: 5].")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly the API's JSON response.")
@click.pass_context
def ask(ctx, question, top_k, index_dir, as_json):
    """Answer QUESTION from the index.

    \b
    Examples:
      faqbot ask "What are the main challenges of open source AI?"
      faqbot ask "refund policy" --top 3 --json
    """
    settings = _settings(ctx, index_dir=index_dir)
    index = _load_index(settings)
    try:
        response = answer_question(index, question, top_k or settings.top_k, settings.answer_settings())
    except FaqbotError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(response, ensure_ascii=False))
        return
    answer = response["answer"]
    if answer:
        if answer["question"]:
            click.echo(f"Q: {answer['question']}")
        click.echo(answer["text"])
        click.echo(f"\nSource: {answer['title']}" + (f" > {answer['section']}" if answer["section"] else ""))
        click.echo(f"Link:   {answer['link']}")
        click.echo(f"Score:  {answer['score']:.2f}   confidence {answer['confidence']:.0%}")
    else:
        click.echo("No confident answer.")
    others = [r for r in response["results"] if r is not answer and r["score"] > 0]
    if top_k and others:
        click.echo("\nOther passages:" if answer else "\nClosest passages:")
        for n, r in enumerate(others, 1):
            label = r["question"] or r["text"][:70].replace("\n", " ")
            click.echo(f"  {n}. [{r['score']:.2f}] {label}  ({r['link']})")


@cli.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Server processes [default: 2].")
@click.option("--index", "index_dir", metavar="DIR", help="Index directory.")
@click.pass_context
def serve(ctx, host, port, workers, index_dir):
    """Run the HTTP API and chat widget (indexes the configured sources first if there is no index).

    \b
    Example:
      faqbot serve --port 8080
    """
    from .pipeline import index_paths
    from .server import run_server

    settings = _settings(ctx, index_dir=index_dir, host=host, port=port, workers=workers)
    if not (Path(settings.index_dir) / "manifest.json").exists():
        click.echo(f"No index in {settings.index_dir}: indexing {', '.join(settings.sources)} first.")
        try:
            index_paths(list(settings.sources), settings.index_dir, settings.base_url, embedder=settings.embedder())
        except FaqbotError as err:
            raise click.ClickException(str(err)) from None
    _load_index(settings)
    run_server(settings)


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--base-url", metavar="URL", help="URL prefix for articles without their own URL.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of articles with their passages.")
@click.pass_context
def inspect(ctx, path, base_url, as_json):
    """Show what faqbot extracts from a file or folder, without indexing.

    \b
    Examples:
      faqbot inspect corpus/bike-commuting.md
      faqbot inspect site/ --json | jq '.[0].passages'
    """
    from .extract import extract_passages
    from .pipeline import load_articles

    settings = _settings(ctx, base_url=base_url)
    articles, skipped = load_articles([path], settings.base_url)
    out = []
    for article_id, article in articles:
        passages = extract_passages(article, article_id)
        out.append({
            "title": article.title, "url": article.url, "lang": article.lang,
            "sections": list(dict.fromkeys(b.text for b in article.blocks if b.kind == "heading")),
            "passages": [p.to_dict() for p in passages],
        })
    if as_json:
        click.echo(json.dumps([{k: v for k, v in a.items() if k != "sections"} for a in out], ensure_ascii=False, indent=2))
    else:
        for article in out:
            faqs = [p for p in article["passages"] if p["kind"] == "faq"]
            click.echo(f"{article['title']}\n  url: {article['url']}\n  lang: {article['lang'] or '-'}")
            click.echo(f"  sections: {' | '.join(article['sections']) or '-'}")
            click.echo(f"  FAQ pairs ({len(faqs)}):")
            for p in faqs:
                click.echo(f"    Q: {p['question']}\n       A: {_short(p['text'])}")
            paragraphs = [p for p in article["passages"] if p["kind"] == "paragraph"]
            click.echo(f"  paragraphs ({len(paragraphs)}):")
            for p in paragraphs:
                click.echo(f"    [{p['section'] or '-'}] {_short(p['text'])}")
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

    from .evaluate import evaluate, format_report, load_queries
    from .pipeline import index_paths

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
            index_paths([articles], tmp, settings.base_url, embedder=settings.embedder())
        index = _load_index(settings if index_dir else load_settings({"index_dir": tmp}))
        passages = [index.passage(i) for i in range(index.n_passages)]
        position = {p.id: i for i, p in enumerate(passages)}
        answer_settings = settings.answer_settings()

        def ranker(question):
            response = answer_question(index, question, 10, answer_settings)
            return [position[r["id"]] for r in response["results"] if r["score"] > 0], response["answer"] is not None

        report = evaluate(ranker, labelled, passages, articles if articles.is_dir() else None)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report, misses))


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main():
    """Console-script entry point."""
    cli(prog_name="faqbot")
