"""Incremental re-indexing: full build vs re-index after changing one article, on a folder of articles.

    python benchmarks/reindex.py                          # 2,000 articles, lexical (FAQBOT_SEMANTIC=0)
    python benchmarks/reindex.py --articles 500 --runs 5
    python benchmarks/reindex.py --semantic-articles 100  # also with embeddings, on a smaller folder

Articles are Markdown files made of real paragraphs (benchmarks/corpus_pool.py): a title, three
sections of paragraphs and an FAQ section with three questions. Every timing is one whole
`faqbot index` run as a library call (index_sources): read, extract, tokenize, embed, write and
publish. The one-changed figure is the median of --runs runs, each editing a different article.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_pool import load_pool  # noqa: E402

from faqbot.index.incremental import index_sources  # noqa: E402


def make_articles(folder: Path, n: int, seed: int = 3) -> None:
    """n Markdown articles of real paragraphs: 3 sections of 2-4 paragraphs and 3 FAQ pairs each."""
    pool = load_pool()
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rows = [pool[rng.randrange(len(pool))] for _ in range(16)]
        parts = [f"# {rows[0]['title'].title()} {i}\n"]
        k = 0
        for s in range(3):
            parts.append(f"## Section {s + 1}: {' '.join(rows[k]['text'].split()[:4])}\n")
            for _ in range(rng.randint(2, 4)):
                parts.append(rows[k]["text"] + "\n")
                k += 1
        parts.append("## Frequently Asked Questions\n")
        for q in range(3):
            text = rows[k + q]["text"]
            parts.append(f"### {' '.join(text.split()[:7]).rstrip('.,;:')}?\n\n{text}\n")
        (folder / f"article-{i:05d}.md").write_text("\n".join(parts), encoding="utf-8")


def timed(fn, *args, **kwargs) -> tuple[tuple[float, float], object]:
    """(wall seconds, CPU seconds of this process) and the result: CPU time is steadier on a shared machine."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - started, time.process_time() - cpu), result


def measure(folder: Path, index_dir: Path, runs: int, embedder=None) -> dict:
    """Seconds for: a full build, a no-change run and one-changed runs."""
    full, report = timed(index_sources, [folder], index_dir, full=True, embedder=embedder)
    unchanged, same = timed(index_sources, [folder], index_dir, embedder=embedder)
    assert same.read == 0, same.read
    files = sorted(folder.glob("*.md"))
    one = []
    for run in range(runs):
        path = files[(run * 37) % len(files)]
        path.write_text(path.read_text(encoding="utf-8") + f"\nAn added closing paragraph, revision {run}, says more.\n",
                        encoding="utf-8")
        seconds, changed = timed(index_sources, [folder], index_dir, embedder=embedder)
        assert changed.read == 1, changed.read
        one.append(seconds)
    median = (statistics.median(w for w, _ in one), statistics.median(c for _, c in one))
    return {"articles": report.articles, "passages": report.faq_pairs + report.paragraphs, "full": full, "unchanged": unchanged, "one": median}


def print_row(label: str, m: dict) -> None:
    def cell(t):
        return f"{t[0]:.2f} s ({t[1]:.2f} s)"

    print(f"| {label} | {m['articles']:,} | {m['passages']:,} | {cell(m['full'])} | "
          f"{cell(m['unchanged'])} | {cell(m['one'])} | {m['one'][0] / m['full'][0]:.3f} ({m['one'][1] / m['full'][1]:.3f}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="one-changed re-indexes (median reported)")
    parser.add_argument("--semantic-articles", type=int, default=0,
                        help="also measure with sentence embeddings on a folder of this many articles (slow: ~13 passages/s)")
    args = parser.parse_args()
    print("wall seconds (CPU seconds of the process)\n")
    print("| mode | articles | passages | full (--full) | nothing changed "
          "| one article changed (median) | one changed / full |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="faqbot-reindex-") as tmp:
        tmp = Path(tmp)
        make_articles(tmp / "articles", args.articles)
        print_row("lexical", measure(tmp / "articles", tmp / "index", args.runs))
        if args.semantic_articles:
            from faqbot.index.embed import load_embedder

            embedder = load_embedder()
            if embedder is None:
                print("(semantic: the embedding model is not installed; skipped)")
                return
            make_articles(tmp / "small", args.semantic_articles)
            print_row("semantic", measure(tmp / "small", tmp / "index-semantic", args.runs, embedder))


if __name__ == "__main__":
    main()
