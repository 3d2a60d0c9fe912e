"""A documentation site read from its built folder: FAQ pairs, titles, headings and links that resolve.

    python benchmarks/docsite.py [FOLDER] [--faq-dir faq] [--questions 60] [--url-style file] [--semantic]

FOLDER (default: Debian's python-django-doc, /usr/share/doc/python-django-doc/html) is indexed with
base_url http://127.0.0.1:PORT/ and served as-is by `python3 -m http.server` on that port. Questions
are made from the site itself: the question headings of FAQ_DIR's pages, then section headings spread
over the site. Every answer link (or the first result when there is no confident answer) is fetched:
it must answer 200 and its #id must be on the page (a #:~:text= fragment: its words must be there).

The reference figures come from the HTML with lxml, not from faqbot: a page's own <h1> is an <h1>
that is not only a link (the site's name in a header), its permalink sign taken out; an FAQ question
heading is an <h2>-<h6> of a page under FAQ_DIR that ends with "?".
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.search.answer import AnswerSettings, ask  # noqa: E402
from faqbot.config import load_settings  # noqa: E402
from faqbot.index.vectors import configured_embedder  # noqa: E402
from faqbot.ingest.extract import is_question  # noqa: E402
from faqbot.index.store import Index  # noqa: E402
from faqbot.index.incremental import index_sources  # noqa: E402

DEFAULT_FOLDER = Path("/usr/share/doc/python-django-doc/html")
PERMALINK_SIGNS = ("¶", "🔗")


def norm(text: str) -> str:
    return " ".join(text.replace("¶", " ").split()).casefold()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, port: int) -> subprocess.Popen:
    """`python3 -m http.server` on 127.0.0.1:port, serving folder as-is; returns once it answers."""
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("http.server did not start")


def page_facts(path: Path) -> tuple[list[str], list[str]]:
    """(the page's own <h1> texts, its <h2>-<h6> texts), permalink anchors taken out."""
    root = lxml.html.parse(str(path)).getroot()
    if root is None:
        return [], []
    for a in root.xpath('//a[contains(concat(" ", @class, " "), " headerlink ")]'):
        a.drop_tree()
    own = []
    for h1 in root.iter("h1"):
        links = h1.findall(".//a")
        text = " ".join(h1.text_content().split())
        if text and not (len(links) == 1 and " ".join(links[0].text_content().split()) == text):
            own.append(text)
    headings = [" ".join(h.text_content().split()) for h in root.iter("h2", "h3", "h4", "h5", "h6")]
    return own, headings


def link_resolves(link: str, cache: dict[str, str | None]) -> tuple[bool, str]:
    """Fetch the link's page (200 only) and find its fragment: an element id, or a text fragment's words."""
    url, _, fragment = link.partition("#")
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                cache[url] = response.read().decode("utf-8", "replace") if response.status == 200 else None
        except Exception as err:  # noqa: BLE001 - any failure is a dead link
            cache[url] = None
            print(f"  dead: {url} ({err})")
    page = cache[url]
    if page is None:
        return False, "not 200"
    if not fragment:
        return True, ""
    if fragment.startswith(":~:text="):
        words = " ".join(unquote(fragment[len(":~:text="):]).split(",")[0].split())
        root = lxml.html.fromstring(page)
        for hidden in root.xpath("//script|//style"):
            hidden.drop_tree()
        return words in " ".join(root.text_content().split()), "text fragment not on the page"
    ids = set(re.findall(r'\b(?:id|name)="([^"]*)"', page))
    return unquote(fragment) in ids, f"no id {fragment!r} on the page"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    parser.add_argument("--faq-dir", default="faq", help="folder of FAQ pages, relative to FOLDER [default: faq]")
    parser.add_argument("--questions", type=int, default=60, help="questions to ask [default: 60]")
    parser.add_argument("--url-style", default="file", choices=("file", "pretty"))
    parser.add_argument("--semantic", action="store_true", help="embed and rerank as `faqbot serve` does (slow)")
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise SystemExit(f"No folder {folder}: install python-django-doc or name a built documentation folder.")

    settings = load_settings({"semantic": args.semantic})
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/"
    server = serve(folder, port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            report = index_sources([folder], tmp, base_url, embedder=configured_embedder(settings), url_style=args.url_style)
            seconds = time.perf_counter() - started
            index = Index.load(tmp)
            passages = [index.passage(i) for i in range(index.n_passages)]
            kinds = Counter(p.kind for p in passages)
            print(f"{folder}: {report.articles} pages, {kinds['faq']} FAQ pairs, {kinds['paragraph']} paragraphs, "
                  f"{kinds['term']} terms, "
                  f"{len(report.skipped)} skipped, indexed in {seconds:.0f} s (url_style={args.url_style}, "
                  f"semantic={'on' if args.semantic else 'off'})\n")
            figures(folder, args, base_url, passages, index, settings)
    finally:
        server.terminate()
        server.wait()


def figures(folder, args, base_url, passages, index, settings):
    def page_of(url: str) -> Path:
        path = unquote(urlsplit(url).path).lstrip("/")
        return folder / (path + "index.html" if path.endswith("/") or not path else path)

    faqs = [p for p in passages if p.kind == "faq"]
    faq_dir = folder / args.faq_dir
    wanted = []  # (page url, question) of every FAQ question heading under faq_dir
    for path in sorted(faq_dir.rglob("*.htm*")) if faq_dir.is_dir() else []:
        _, headings = page_facts(path)
        wanted += [(path, h) for h in headings if is_question(h)]
    found_keys = {(page_of(p.url), norm(p.question or "")) for p in faqs}
    found = [w for w in wanted if (w[0], norm(w[1])) in found_keys]
    questions = [p for p in faqs if is_question(p.question or "")]

    signs = Counter()
    for p in passages:
        for name, text in (("title", p.title), ("section", p.section), ("question", p.question or "")):
            if any(sign in text for sign in PERMALINK_SIGNS):
                signs[name] += 1
    titles = {p.url: p.title for p in passages if page_of(p.url).is_file()}  # not the .txt sources
    with_h1, by_h1, wrong = 0, 0, []
    for url, title in sorted(titles.items()):
        own, _ = page_facts(page_of(url))
        if own:
            with_h1 += 1
            if norm(title) in map(norm, own):
                by_h1 += 1
            else:
                wrong.append((url, title, own[0]))

    rows = [
        (f"FAQ question headings of {args.faq_dir}/ found as FAQ pairs", f"{len(found)} of {len(wanted)}"),
        ("FAQ pairs site-wide that are questions (end with ?)",
         f"{len(questions)} of {len(faqs)} ({len(questions) / max(1, len(faqs)):.1%})"),
        ("titles / sections / questions containing ¶ or 🔗", f"{signs['title']} / {signs['section']} / {signs['question']}"),
        ("pages titled by their own <h1>", f"{by_h1} of {with_h1} pages that have one ({len(titles)} HTML pages indexed)"),
    ]
    missed = [w for w in wanted if w not in found]

    asked = make_questions(faqs, passages, folder / args.faq_dir, page_of, args.questions)
    answer_settings = AnswerSettings.configured(settings) if args.semantic else _lexical(settings)
    cache: dict[str, str | None] = {}
    resolved, same_page, answered, dead = 0, 0, 0, []
    for question, source_url in asked:
        result = ask(index, question, settings=answer_settings)
        top = result["answer"] or (result["results"] or [None])[0]
        if top is None:
            dead.append((question, "no result"))
            continue
        answered += result["answer"] is not None
        same_page += top["url"] == source_url
        ok, why = link_resolves(top["link"], cache)
        resolved += ok
        if not ok:
            dead.append((question, f"{top['link']}: {why}"))
    top1, top3, glossary = glossary_ranks(index, passages, answer_settings)
    rows += [
        ("answer links resolving on the folder served as-is", f"{resolved} of {len(asked)}"),
        ("  (answered with confidence / answer from the page the question came from)",
         f"{answered} / {same_page} of {len(asked)}"),
        ("glossary terms: 'What is X?' finds the term's entry first / in the top 3", f"{top1} / {top3} of {glossary}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'figure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    for path, question in missed:
        print(f"  missed FAQ question: {path.relative_to(folder)}: {question}")
    for url, title, h1 in wrong[:10]:
        print(f"  title {title!r} is not the <h1> {h1!r}: {url}")
    for question, why in dead:
        print(f"  unresolved: {question!r}: {why}")


def glossary_ranks(index, passages, answer_settings) -> tuple[int, int, int]:
    """Ask "What is X?" for every Sphinx glossary entry (an id "term-..."): how often is it first, in the top 3?"""
    entries = {p.link: p.question or p.section for p in passages if re.search(r"#term-[^#]+$", p.link)}
    top1 = top3 = 0
    for link, term in entries.items():
        links = [r["link"] for r in ask(index, f"What is {term}?", top_k=3, settings=answer_settings)["results"]]
        top1 += links[:1] == [link]
        top3 += link in links
    return top1, top3, len(entries)


def _lexical(settings):
    from dataclasses import replace

    return replace(AnswerSettings.configured(settings), embedder=None)


def make_questions(faqs, passages, faq_dir, page_of, count) -> list[tuple[str, str]]:
    """Half FAQ questions (from FAQ_DIR first), half section headings spread evenly over the site."""
    in_faq_dir = [p for p in faqs if page_of(p.url).is_relative_to(faq_dir)]
    faq_questions = list(dict.fromkeys((p.question, p.url) for p in in_faq_dir + faqs))
    half = min(len(faq_questions), count // 2)
    picked = faq_questions[:: max(1, len(faq_questions) // half)][:half] if half else []
    sections = list(dict.fromkeys((p.section, p.url) for p in passages if p.kind == "paragraph"
                                  and len(p.section.split()) >= 2))
    rest = count - len(picked)
    picked += sections[:: max(1, len(sections) // rest)][:rest] if rest and sections else []
    return picked


if __name__ == "__main__":
    main()
