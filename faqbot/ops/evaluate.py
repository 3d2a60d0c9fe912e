"""Answer quality on a labelled query set: Hit@k, MRR@10, no-answer precision/recall, and the misses.

Query format (one JSON object a line): {"id", "query", "article", "gold", "kind"}. For kind "faq",
gold is the FAQ question text (the same question on another page counts too); for "paragraph",
gold is the first characters of the paragraph that answers. gold [] marks an out-of-scope query
that should get no answer.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..model import Passage
from ..ingest.read_markdown import inline_text


@dataclass(frozen=True)
class EvalQuery:
    """One labelled question."""

    id: str
    query: str
    kind: str  # "faq", "paragraph" or "none" (out of scope)
    gold: tuple[str, ...]
    article: str = ""


def load_queries(path: str | Path) -> list[EvalQuery]:
    """Read a queries.jsonl file."""
    queries = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        gold = data.get("gold", [])
        gold = (gold,) if isinstance(gold, str) else tuple(gold)
        kind = data.get("kind") or ("none" if not gold else "paragraph")
        queries.append(EvalQuery(str(data.get("id", n)), data["query"], kind if gold else "none", gold,
                                 data.get("article", "")))
    return queries


def normalize(text: str) -> str:
    """Compare texts ignoring case, Unicode forms, inline Markdown and spacing."""
    text = unicodedata.normalize("NFKC", inline_text(text)).lower()
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    return " ".join(text.split())


def full_paragraphs(articles_dir: Path | None, article: str) -> list[str]:
    """The normalised paragraphs of an article file, to match passages cut from a gold paragraph."""
    if articles_dir is None:
        return []
    for ext in (".md", ".markdown", ".txt"):
        path = articles_dir / f"{article}{ext}"
        if path.exists():
            return [normalize(p) for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return []


def gold_passages(query: EvalQuery, passages: list[Passage], articles_dir: Path | None = None) -> set[int]:
    """Indices of the passages that answer query."""
    found: set[int] = set()
    if query.kind == "faq":
        wanted = {normalize(g) for g in query.gold}
        return {i for i, p in enumerate(passages) if p.kind == "faq" and normalize(p.question or "") in wanted}
    paragraphs = full_paragraphs(articles_dir, query.article)
    for gold in query.gold:
        prefix = normalize(gold)
        whole = next((p for p in paragraphs if p.startswith(prefix)), prefix)
        for i, p in enumerate(passages):
            if query.article and p.article != query.article:
                continue
            text = normalize(p.text)
            if text.startswith(prefix) or (len(text) > 40 and text in whole):
                found.add(i)
    return found


def metrics(ranks: list[int | None]) -> dict:
    """Hit@1, Hit@3 and MRR@10 from 1-based ranks of the first right passage (None = not in the top 10)."""
    n = len(ranks) or 1
    return {
        "queries": len(ranks),
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    }


def no_answer_metrics(out_of_scope: list[bool], answered: list[bool]) -> dict:
    """Precision and recall of "no answer" against the out-of-scope labels."""
    silent = [not a for a in answered]
    true_pos = sum(o and s for o, s in zip(out_of_scope, silent))
    return {
        "out_of_scope": sum(out_of_scope),
        "precision": true_pos / sum(silent) if any(silent) else 1.0,
        "recall": true_pos / sum(out_of_scope) if any(out_of_scope) else 1.0,
    }


Ranker = Callable[[str], tuple[list[int], bool]]  # question -> (passage indices best first, answered?)


def answer_ranker(index, settings) -> Ranker:
    """faqbot's own ranker for evaluate(): passage numbers of the matching results, and whether it answered."""
    from ..search.answer import ask

    position = {index.passage(i).id: i for i in range(index.n_passages)}

    def rank(question: str) -> tuple[list[int], bool]:
        response = ask(index, question, 10, settings)
        # Results padded at score 0 are suggestions, not matches.
        return [position[r["id"]] for r in response["results"] if r["score"] > 0], response["answer"] is not None

    return rank


def evaluate(ranker: Ranker, queries: Iterable[EvalQuery], passages: list[Passage],
             articles_dir: Path | None = None) -> dict:
    """Run every query through ranker and compute the report (overall, per kind, no-answer, misses)."""
    rows = []
    for query in queries:
        ranked, answered = ranker(query.query)
        gold = gold_passages(query, passages, articles_dir) if query.kind != "none" else set()
        rank = next((r for r, doc in enumerate(ranked[:10], 1) if doc in gold), None)
        rows.append((query, rank, answered, ranked[0] if ranked else None, bool(gold)))
    in_scope = [r for r in rows if r[0].kind != "none"]
    report = {"overall": metrics([r[1] for r in in_scope])}
    report["overall"]["answered_hit@1"] = sum(r[1] == 1 and r[2] for r in in_scope) / (len(in_scope) or 1)
    report["overall"]["answered"] = sum(r[2] for r in in_scope) / (len(in_scope) or 1)
    for kind in sorted({r[0].kind for r in in_scope}):
        report[kind] = metrics([r[1] for r in in_scope if r[0].kind == kind])
    if any(r[0].kind == "none" for r in rows):
        report["no_answer"] = no_answer_metrics([r[0].kind == "none" for r in rows], [r[2] for r in rows])
    report["unmatched_gold"] = [r[0].id for r in in_scope if not r[4]]
    report["misses"] = [
        {"id": q.id, "question": q.query, "gold": list(q.gold),
         "first": _describe(passages[first]) if first is not None else None, "rank": rank}
        for q, rank, _, first, _ in in_scope if rank != 1
    ]
    return report


def _describe(passage: Passage) -> str:
    return passage.question or " ".join(passage.text.split()[:14])


def format_report(report: dict, show_misses: int = 20) -> str:
    """The report as a plain-text table."""
    lines = [f"{'part':<12}{'queries':>8}{'Hit@1':>8}{'Hit@3':>8}{'MRR@10':>8}"]
    for part in ["overall"] + [k for k in ("faq", "paragraph") if k in report]:
        m = report[part]
        lines.append(f"{part:<12}{m['queries']:>8}{m['hit@1']:>8.3f}{m['hit@3']:>8.3f}{m['mrr@10']:>8.3f}")
    o = report["overall"]
    lines.append(f"answered {o['answered']:.1%} of in-scope questions; right answer given for {o['answered_hit@1']:.1%}")
    if "no_answer" in report:
        na = report["no_answer"]
        lines.append(f"no-answer: precision {na['precision']:.3f}, recall {na['recall']:.3f} "
                     f"({na['out_of_scope']} out-of-scope queries)")
    if report["unmatched_gold"]:
        lines.append(f"warning: {len(report['unmatched_gold'])} queries whose gold passage is not in the index")
    if show_misses and report["misses"]:
        lines.append(f"\nmisses ({len(report['misses'])}, first {min(show_misses, len(report['misses']))}):")
        for miss in report["misses"][:show_misses]:
            rank = f"rank {miss['rank']}" if miss["rank"] else "not in top 10"
            lines.append(f"  {miss['question']}\n    gold:  {miss['gold'][0][:80]}\n    first: {(miss['first'] or '-')[:80]}  ({rank})")
    return "\n".join(lines)
