"""Real text for the speed and scale benchmarks: paragraphs of the HTML manuals Debian installs.

    apt-get install python3.11-doc postgresql-doc-15 python-django-doc git-doc

The pool is cached in benchmarks/.cache/pool.jsonl. Corpora larger than the pool are made of new
passages whose sentences are drawn from the pool (same vocabulary and word statistics).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator

from faqbot.model import Passage

CACHE = Path(__file__).resolve().parent / ".cache" / "pool.jsonl"
DOC_ROOTS = ["/usr/share/doc/python3.11", "/usr/share/doc/postgresql-doc-15", "/usr/share/doc/python-django-doc",
             "/usr/share/doc/git-doc", "/usr/share/doc"]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _paragraphs_of(path: Path) -> list[str]:
    from lxml import html

    try:
        tree = html.fromstring(path.read_bytes())
    except Exception:
        return []
    out = []
    for element in tree.iter("p", "li", "dd"):
        text = " ".join(element.text_content().split())
        if len(text.split()) >= 8:
            out.append(text)
    return out


def load_pool(limit_files: int = 20000) -> list[dict]:
    """Paragraphs with their page title, from the cache or the installed manuals."""
    if CACHE.exists():
        return [json.loads(line) for line in CACHE.open(encoding="utf-8")]
    files = []
    seen = set()
    for root in DOC_ROOTS:
        for path in sorted(Path(root).rglob("*.html")):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                files.append(path)
    pool = []
    for path in files[:limit_files]:
        title = path.stem.replace("-", " ").replace("_", " ")
        for text in _paragraphs_of(path):
            pool.append({"title": title, "text": text, "article": str(path)})
    if not pool:
        raise SystemExit("No HTML manuals found: apt-get install python3.11-doc postgresql-doc-15 python-django-doc git-doc")
    CACHE.parent.mkdir(exist_ok=True)
    with CACHE.open("w", encoding="utf-8") as f:
        for row in pool:
            f.write(json.dumps(row) + "\n")
    return pool


def iter_passages(n: int, seed: int = 7) -> Iterator[Passage]:
    """n passages, one at a time: the pool's own paragraphs first, then paragraphs of pool sentences drawn at random."""
    pool = load_pool()
    rng = random.Random(seed)
    sentences = [s for row in pool for s in _SENTENCE.split(row["text"])]
    for i in range(n):
        if i < len(pool):
            row = pool[i]
            title, text = row["title"], row["text"]
        else:
            row = pool[rng.randrange(len(pool))]
            title = row["title"]
            text = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 6)))
        kind = "faq" if i % 10 == 0 else "paragraph"
        question = (" ".join(text.split()[:8]).rstrip(".,;:") + "?") if kind == "faq" else None
        yield Passage(id=f"p{i}", article=f"a{i // 20}", kind=kind, question=question, text=text,
                      title=title, section="", url=f"/articles/a{i // 20}", link=f"/articles/a{i // 20}#p{i}")


def make_passages(n: int, seed: int = 7) -> list[Passage]:
    """The first n passages of iter_passages, as a list."""
    return list(iter_passages(n, seed))


def make_queries(n: int, seed: int = 11) -> list[str]:
    """Questions a reader might type: 3-8 consecutive words from a random pool paragraph, as a question."""
    pool = load_pool()
    rng = random.Random(seed)
    starts = ("how do I", "what is", "can I", "why does", "where is", "")
    queries = []
    while len(queries) < n:
        words = rng.choice(pool)["text"].split()
        if len(words) < 10:
            continue
        i = rng.randrange(len(words) - 8)
        queries.append(f"{rng.choice(starts)} {' '.join(words[i:i + rng.randint(3, 8)])}?".strip())
    return queries
