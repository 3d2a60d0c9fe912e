"""The question-log report: most asked, unanswered (reworded ones grouped), not helpful, top articles.

`build_report` reads the log (SQLite or PostgreSQL) read-only and returns plain data; `render_table`, `render_csv`
and `render_json` print it for `faqbot report`, and `faqbot.serve.report_page` shows it as a web page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..text.analyze import analyze, words
from ..errors import FaqbotError
from ..text.printable import clean

SAME_QUESTION_COSINE = 0.6  # all-MiniLM-L6-v2: "how much does it cost" / "what is the price" = 0.71
SAME_QUESTION_JACCARD = 0.5  # lexical fallback: shared stemmed terms over all terms
MAX_GROUPED = 2000  # distinct unanswered questions clustered (the most frequent first)
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.I)
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float) -> float:
    """A start time from "7d", "24h", "2w", an ISO date ("2024-05-01") or "all"; raise FaqbotError otherwise."""
    if text.strip().lower() == "all":
        return 0.0
    match = _SINCE.match(text)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FaqbotError(f"--since {text!r}: give a duration such as 7d, 24h or 2w, or a date such as 2024-05-01.") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    return start.timestamp()


def normalize(question: str) -> str:
    """The question as compared for "the same question": lowercase words, punctuation dropped."""
    return " ".join(words(question))


def group_questions(texts: list[str], embedder=None, threshold: float | None = None) -> list[list[int]]:
    """Cluster questions that say the same thing in other words; return lists of indices into texts.

    Greedy, in the order given (pass the most frequent first): each question joins the first group
    whose leading question is similar enough, else it leads a new group. Similar means a cosine of
    sentence embeddings >= 0.6 when an embedder is given, else a Jaccard overlap of stemmed terms >= 0.5.
    """
    if not texts:
        return []
    if embedder is not None:
        vectors = embedder.encode(list(texts))
        limit = SAME_QUESTION_COSINE if threshold is None else threshold

        def similar(a: int, b: int) -> bool:
            return float(vectors[a] @ vectors[b]) >= limit
    else:
        terms = [frozenset(analyze(t)) for t in texts]
        limit = SAME_QUESTION_JACCARD if threshold is None else threshold

        def similar(a: int, b: int) -> bool:
            if not terms[a] or not terms[b]:
                return normalize(texts[a]) == normalize(texts[b])
            return len(terms[a] & terms[b]) / len(terms[a] | terms[b]) >= limit

    groups: list[list[int]] = []
    for i in range(len(texts)):
        for group in groups:
            if similar(group[0], i):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _read(log_path: str | Path, since: float, until: float) -> tuple[list[dict], list[dict]]:
    from .storage import Database, describe, is_postgres

    if not is_postgres(log_path) and not Path(log_path).exists():
        raise FaqbotError(f"No question log at {log_path}. The API writes it when `log_questions` is on.")
    db = Database(log_path, read_only=True)
    try:
        with db.transaction(lock=False) as tx:
            asked = tx.query("SELECT * FROM asked WHERE at >= ? AND at <= ? ORDER BY at, id", (since, until))
            feedback = tx.query("SELECT * FROM feedback WHERE at >= ? AND at <= ? ORDER BY at, id", (since, until))
    except db.errors as err:
        if db.dialect == "sqlite":
            raise FaqbotError(f"{log_path} is not a faqbot question log ({err}).") from None
        raise FaqbotError(f"Cannot read the question log {describe(log_path)}: {str(err).strip()}") from None
    return asked, feedback


def _passages(index, ids: set[str]) -> dict[str, dict]:
    """Title and link of the given passage ids, looked up in the index (stops once all are found)."""
    found: dict[str, dict] = {}
    if index is None or not ids:
        return found
    for i in range(min(index.n_passages, 500_000)):
        passage = index.passage(i)
        if passage.id in ids:
            found[passage.id] = {"title": passage.title, "link": passage.link, "url": passage.url,
                                 "label": passage.question or _words_upto(passage.text, 90)}
            if len(found) == len(ids):
                break
    return found


def build_report(log_path: str | Path, since: float, now: float | None = None, embedder=None, index=None,
                 limit: int = 10) -> dict:
    """Summarise the question log from `since` (unix time) to now; index (optional) adds titles."""
    now = time.time() if now is None else now
    asked, feedback = _read(log_path, since, now)
    answered = [r for r in asked if r["answered"]]

    # Most asked: the same words, whatever the case or punctuation.
    by_text: dict[str, list[dict]] = defaultdict(list)
    for row in asked:
        by_text[normalize(row["question"]) or row["question"].strip().lower()].append(row)
    most_asked = sorted(by_text.values(), key=lambda rows: (-len(rows), -rows[-1]["at"]))[:limit]

    # Unanswered, grouped by meaning.
    unanswered = Counter()
    shown: dict[str, str] = {}
    for row in asked:
        if not row["answered"]:
            key = normalize(row["question"]) or row["question"].strip().lower()
            unanswered[key] += 1
            shown.setdefault(key, row["question"].strip())
    keys = [k for k, _ in unanswered.most_common(MAX_GROUPED)]
    groups = group_questions([shown[k] for k in keys], embedder)
    unanswered_groups = sorted(
        ({"question": shown[keys[g[0]]], "count": sum(unanswered[keys[i]] for i in g),
          "variants": [shown[keys[i]] for i in g]} for g in groups),
        key=lambda g: -g["count"])[:limit]

    # Answers readers marked not helpful (the feedback table holds every verdict).
    not_helpful: dict[str, list[dict]] = defaultdict(list)
    for row in feedback:
        if not row["helpful"]:
            not_helpful[row["passage_id"]].append(row)
    not_helpful_rows = sorted(not_helpful.items(), key=lambda kv: -len(kv[1]))[:limit]

    # Articles that answer most: a passage id is "<article-slug>#<n>".
    articles = Counter(r["passage_id"].split("#")[0] for r in answered if r["passage_id"])
    verdicts: dict[str, Counter] = defaultdict(Counter)
    for row in feedback:
        verdicts[row["passage_id"].split("#")[0]]["helpful" if row["helpful"] else "not_helpful"] += 1
    top_articles = articles.most_common(limit)
    example_passage = {}
    for r in answered:
        if r["passage_id"]:
            example_passage.setdefault(r["passage_id"].split("#")[0], r["passage_id"])
    info = _passages(index, {pid for pid, _ in not_helpful_rows} | {example_passage[a] for a, _ in top_articles})

    return {
        "since": _iso(since), "until": _iso(now),
        "grouping": "embeddings" if embedder is not None else "words",
        "totals": {
            "questions": len(asked), "answered": len(answered), "unanswered": len(asked) - len(answered),
            "answered_rate": round(len(answered) / len(asked), 4) if asked else None,
            "helpful": sum(1 for r in feedback if r["helpful"]),
            "not_helpful": sum(1 for r in feedback if not r["helpful"]),
        },
        "most_asked": [{"question": rows[-1]["question"].strip(), "count": len(rows),
                        "answered": sum(1 for r in rows if r["answered"])} for rows in most_asked],
        "unanswered": unanswered_groups,
        "not_helpful": [{"passage_id": pid, "title": info.get(pid, {}).get("title", pid.split("#")[0]),
                         "passage": info.get(pid, {}).get("label", ""), "link": info.get(pid, {}).get("link", ""),
                         "count": len(rows), "questions": list(dict.fromkeys(r["question"] for r in rows))[:5]}
                        for pid, rows in not_helpful_rows],
        "top_articles": [{"article": slug, "title": info.get(example_passage[slug], {}).get("title", slug),
                          "url": info.get(example_passage[slug], {}).get("url", ""), "answers": n,
                          "helpful": verdicts[slug]["helpful"], "not_helpful": verdicts[slug]["not_helpful"]}
                         for slug, n in top_articles],
        "per_day": _per_day(asked, since, now),
    }


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _per_day(asked, since: float, now: float) -> list[dict]:
    """Questions and answered questions per UTC day, every day of the period (zeros included)."""
    start = since if since > 0 else (asked[0]["at"] if asked else now)  # since 0 = the whole log
    first = datetime.fromtimestamp(start, timezone.utc).date()
    last = datetime.fromtimestamp(now, timezone.utc).date()
    days = {first + timedelta(d): [0, 0] for d in range((last - first).days + 1)}
    for row in asked:
        day = datetime.fromtimestamp(row["at"], timezone.utc).date()
        if day in days:
            days[day][0] += 1
            days[day][1] += row["answered"]
    return [{"date": d.isoformat(), "questions": q, "answered": a} for d, (q, a) in sorted(days.items())]


def render_json(report: dict) -> str:
    """The report as indented JSON (control characters dropped, as in every report output)."""
    return clean(json.dumps(report, ensure_ascii=False, indent=2))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell a spreadsheet shows as text: control characters dropped, a leading formula sign
    (= + - @ tab CR) escaped with an apostrophe, so `=HYPERLINK(...)` in a question stays words."""
    if not isinstance(value, str):
        return value
    value = clean(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


class _SafeWriter:
    def __init__(self, out: io.StringIO):
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list) -> None:
        self._writer.writerow([_cell(value) for value in row])


def render_csv(report: dict) -> str:
    """The report as one CSV table: section, rank, text, count, detail."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(["section", "rank", "text", "count", "detail"])
    for n, row in enumerate(report["most_asked"], 1):
        writer.writerow(["most_asked", n, row["question"], row["count"], f"answered {row['answered']}"])
    for n, row in enumerate(report["unanswered"], 1):
        writer.writerow(["unanswered", n, row["question"], row["count"], " | ".join(row["variants"])])
    for n, row in enumerate(report["not_helpful"], 1):
        writer.writerow(["not_helpful", n, f"{row['title']}: {row['passage']}".rstrip(": "), row["count"],
                         " | ".join(row["questions"])])
    for n, row in enumerate(report["top_articles"], 1):
        writer.writerow(["top_articles", n, row["title"], row["answers"],
                         f"helpful {row['helpful']}, not helpful {row['not_helpful']}"])
    for row in report["per_day"]:
        writer.writerow(["per_day", "", row["date"], row["questions"], f"answered {row['answered']}"])
    return out.getvalue()


def _words_upto(text: str, width: int) -> str:
    """The first words of text, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(report: dict, width: int = 100) -> str:
    """The report as plain-text tables for a terminal or an email, control characters dropped."""
    t = report["totals"]
    rate = f"{t['answered_rate']:.0%}" if t["answered_rate"] is not None else "-"
    lines = [f"Questions {report['since'][:10]} to {report['until'][:10]}: {t['questions']} asked, "
             f"{t['answered']} answered ({rate}), {t['unanswered']} unanswered; "
             f"feedback: {t['helpful']} helpful, {t['not_helpful']} not helpful."]
    text_width = max(width - 11, 30)

    def section(title: str, head: str, rows: list[tuple[int, str]]) -> None:
        lines.extend(["", title])
        if not rows:
            lines.append("  (none)")
            return
        lines.append(f"  {head:>7}  {'Question' if head == 'Asked' else 'Answer' if head == 'Votes' else 'Article'}")
        for count, text in rows:
            lines.append(f"  {count:>7}  {_short(text, text_width)}")

    section("Most asked", "Asked", [(r["count"], f"{r['question']}  ({r['answered']} answered)") for r in report["most_asked"]])
    unanswered = []
    for g in report["unanswered"]:
        others = [v for v in g["variants"] if v != g["question"]]
        unanswered.append((g["count"], g["question"] + (f"  (also: {'; '.join(others)})" if others else "")))
    section(f"Unanswered (same question in other words grouped, by {report['grouping']})", "Asked", unanswered)
    section("Answers marked not helpful", "Votes", [
        (r["count"], f"{r['title']}: {r['passage']}  <- {'; '.join(r['questions'])}") for r in report["not_helpful"]])
    section("Articles that answer most", "Answers", [
        (r["answers"], f"{r['title']}  (helpful {r['helpful']}, not helpful {r['not_helpful']})") for r in report["top_articles"]])
    return clean("\n".join(lines))  # questions are the readers' words: they must not drive the terminal
