"""Main-content extraction: score read_html on a folder of real pages with ground-truth snippets.

    python benchmarks/html_extraction.py [FOLDER ...] [--verbose] [--trafilatura]

Each FOLDER (default ../shared/html-dev and ../shared/html-dev-more beside the repo) holds pages/*.html
and truth.jsonl. Both extractors run in the same process: read_html and trafilatura.extract alone, with a
row per folder and a total, and every page where read_html keeps fewer `with` snippets than trafilatura
is listed. Scoring follows
its README: all kept text is joined and normalised, and each snippet counts when it is a substring.
with-recall = `with` snippets found / all; without-leak = `without` snippets found / all (reader-comment
snippets are counted in a column of their own);
a page that raises or yields no text fails. --trafilatura scores trafilatura.extract alone, the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from faqbot.errors import SkipFile  # noqa: E402
from faqbot.ingest.read import decode  # noqa: E402
from faqbot.ingest.read_html import read_html  # noqa: E402

DEFAULT_FOLDERS = [REPO.parent / "shared" / "html-dev", REPO.parent / "shared" / "html-dev-more"]
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
                         "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-"})


def normalise(text: str) -> str:
    """NFKC, lowercase, plain quotes and dashes, no zero-width characters, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    # Zero-width and other invisible format characters (category Cf: ZWSP, ZWJ, U+2063, BOM, soft hyphen).
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.split())


def read_html_text(html: str) -> str:
    """Everything read_html keeps: title, block texts and questions, FAQ pairs."""
    article = read_html(html, "")
    parts = [article.title]
    for block in article.blocks:
        parts += [block.question or "", block.text]
    for pair in article.faqs:
        parts += [pair.question, pair.answer]
    return "\n".join(p for p in parts if p)


def trafilatura_text(html: str) -> str:
    """The reference point: trafilatura.extract with comments excluded."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


@dataclass
class Score:
    """Counts over a folder, and what each page missed or leaked."""

    found: int = 0
    wanted: int = 0
    leaked: int = 0
    furniture: int = 0
    comments_leaked: int = 0
    comments: int = 0
    failed: list[str] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=dict)
    leaks: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    found_on: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Score") -> "Score":
        """Fold another folder's counts into this one (page names stay distinct across folders)."""
        for name in ("found", "wanted", "leaked", "furniture", "comments_leaked", "comments"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        for name in ("misses", "leaks", "seconds", "found_on"):
            getattr(self, name).update(getattr(other, name))
        return self

    @property
    def recall(self) -> float:
        return self.found / self.wanted if self.wanted else 0.0

    @property
    def leak(self) -> float:
        return self.leaked / self.furniture if self.furniture else 0.0


def score_folder(folder: Path, extract: Callable[[str], str] = read_html_text) -> Score:
    """Run extract on every page listed in folder/truth.jsonl and count snippets found."""
    score = Score()
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        truth = json.loads(line)
        name = truth["file"]
        started = time.perf_counter()
        try:
            text = normalise(extract(decode((folder / "pages" / name).read_bytes(), "html")))
        except SkipFile:
            text = ""
        except Exception as err:  # a crash is a failed page, reported with its reason
            text = ""
            score.failed.append(f"{name}: {type(err).__name__}: {err}")
        score.seconds[name] = time.perf_counter() - started
        if not text and not any(f.startswith(name + ":") for f in score.failed):
            score.failed.append(f"{name}: no text")
        wanted = [normalise(s) for s in truth["with"]]
        furniture = [normalise(s) for s in truth["without"]]
        comments = [normalise(s) for s in truth.get("comments", [])]
        score.wanted += len(wanted)
        score.furniture += len(furniture)
        score.comments += len(comments)
        missed = [s for s in wanted if s not in text]
        leaked = [s for s in furniture if s in text]
        score.found += len(wanted) - len(missed)
        score.found_on[name] = len(wanted) - len(missed)
        score.leaked += len(leaked)
        score.comments_leaked += sum(s in text for s in comments)
        leaked += [f"(comment) {s}" for s in comments if s in text]
        if missed:
            score.misses[name] = missed
        if leaked:
            score.leaks[name] = leaked
    return score


def _row(name: str, where: str, score: Score) -> str:
    slowest = max(score.seconds, key=score.seconds.get) if score.seconds else "-"
    return (f"| {name} | {where} | {score.recall:.3f} ({score.found}/{score.wanted}) | "
            f"{score.leak:.3f} ({score.leaked}/{score.furniture}) | {score.comments_leaked}/{score.comments} | "
            f"{len(score.failed)} | {score.seconds.get(slowest, 0):.2f} s ({slowest}) |")


def main(argv: list[str] | None = None) -> int:
    """Print the recall/leak table for read_html beside trafilatura alone, per folder and in total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--verbose", action="store_true", help="list each page's misses and leaks")
    parser.add_argument("--trafilatura", action="store_true", help="score trafilatura.extract alone")
    args = parser.parse_args(argv)
    folders = args.folders or [f for f in DEFAULT_FOLDERS if (f / "truth.jsonl").is_file()]
    for folder in folders:
        if not (folder / "truth.jsonl").is_file():
            print(f"No truth.jsonl in {folder}", file=sys.stderr)
            return 1
    extractors = [("trafilatura", trafilatura_text)] if args.trafilatura else [
        ("read_html", read_html_text), ("trafilatura", trafilatura_text)]
    totals = {name: Score() for name, _ in extractors}
    rows = []
    for folder in folders:
        for name, extract in extractors:
            score = score_folder(folder, extract)
            rows.append(_row(name, folder.name, score))
            totals[name].add(score)
            if args.verbose:
                for page in sorted(set(score.misses) | set(score.leaks)):
                    rows += [f"{name} {page}: missed  {s!r}" for s in score.misses.get(page, [])]
                    rows += [f"{name} {page}: leaked  {s!r}" for s in score.leaks.get(page, [])]
    print("| extractor | folder | with-recall | without-leak | comments kept | failed pages | slowest page |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row) if row.startswith("|") else None
    if len(folders) > 1:
        for name, _ in extractors:
            print(_row(name, "total", totals[name]))
    for name, score in totals.items():
        for failure in score.failed:
            print(f"FAILED {name} {failure}")
    if "read_html" in totals and "trafilatura" in totals:
        own, ref = totals["read_html"].found_on, totals["trafilatura"].found_on
        fewer = sorted(page for page in own if own[page] < ref.get(page, 0))
        print(f"pages where read_html keeps fewer `with` snippets than trafilatura: {len(fewer)}")
        for page in fewer:
            print(f"  {page}: {own[page]} against {ref[page]}")
    for row in rows:
        print(row) if not row.startswith("|") else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
