"""The server's buffered question log: questions written in batches, none lost on a normal exit."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from faqbot.ops.qlog import QuestionLog

REPO = Path(__file__).resolve().parent.parent


def _response(answered: bool, passage_id: str = "refunds#2") -> dict:
    best = {"id": passage_id, "score": 3.2, "confidence": 0.8 if answered else 0.1}
    return {"answer": best if answered else None, "results": [best]}


def _questions(path) -> list[str]:
    return [r["question"] for r in QuestionLog(path).rows()]


def test_buffered_questions_are_written_on_flush(tmp_path):
    path = tmp_path / "q.sqlite"
    log = QuestionLog(path)
    log.start_buffering(interval=3600)
    assert log.record_question("first", _response(True)) is None
    log.record_question("second", _response(False))
    assert _questions(path) == []  # another process sees nothing yet
    assert log.flush() == 2
    assert _questions(path) == ["first", "second"]
    assert log.flush() == 0


def test_the_writer_thread_writes_within_the_interval(tmp_path):
    path = tmp_path / "q.sqlite"
    log = QuestionLog(path)
    log.start_buffering(interval=0.05)
    log.record_question("asked", _response(True))
    deadline = time.monotonic() + 5
    while not _questions(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _questions(path) == ["asked"]


def test_a_full_buffer_is_written_at_once(tmp_path):
    path = tmp_path / "q.sqlite"
    log = QuestionLog(path)
    log.start_buffering(interval=3600, max_pending=10)
    for i in range(10):
        log.record_question(f"q{i}", _response(True))
    deadline = time.monotonic() + 5
    while len(_questions(path)) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _questions(path) == [f"q{i}" for i in range(10)]


def test_own_rows_and_feedback_see_the_buffer(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite")
    log.start_buffering(interval=3600)
    log.record_question("how long does a refund take", _response(True))
    log.record_feedback("how long does a refund take", "refunds#2", False)
    assert [(r["question"], r["helpful"]) for r in log.rows()] == [("how long does a refund take", 0)]
    assert [f["asked_id"] for f in log.rows("feedback")] == [1]


def test_feedback_from_another_worker_is_linked_when_the_question_is_written(tmp_path):
    path = tmp_path / "q.sqlite"
    clock = [1000.0]
    worker_a = QuestionLog(path, now=lambda: clock[0])
    worker_a.start_buffering(interval=3600)
    worker_b = QuestionLog(path, now=lambda: clock[0])
    worker_b.start_buffering(interval=3600)
    worker_a.record_question("reset my password", _response(True, "account#0"))
    clock[0] += 0.5
    worker_b.record_feedback("reset my password", "account#0", True)  # A has not written its question yet
    assert [f["asked_id"] for f in worker_b.rows("feedback")] == [None]
    clock[0] += 0.5
    worker_a.record_question("reset my password", _response(True, "account#0"))  # asked again after the verdict
    worker_a.flush()
    asked = worker_b.rows()
    assert [(r["id"], r["helpful"]) for r in asked] == [(1, 1), (2, None)]
    assert [(f["asked_id"], f["helpful"]) for f in worker_b.rows("feedback")] == [(1, 1)]


def test_unbuffered_log_writes_each_question_at_once(tmp_path):
    path = tmp_path / "q.sqlite"
    log = QuestionLog(path)
    assert log.record_question("at once", _response(True)) == 1
    assert _questions(path) == ["at once"]


def test_a_process_that_exits_normally_writes_its_buffer(tmp_path):
    path = tmp_path / "q.sqlite"
    script = (
        "import sys; from faqbot.ops.qlog import QuestionLog\n"
        f"log = QuestionLog({str(path)!r}); log.start_buffering(interval=3600)\n"
        "for i in range(3):\n"
        "    log.record_question(f'q{i}', {'answer': None, 'results': []})\n"
        "sys.exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)
    assert _questions(path) == ["q0", "q1", "q2"]


def test_a_forked_worker_writes_its_own_buffer(tmp_path):
    import os

    path = tmp_path / "q.sqlite"
    log = QuestionLog(path)
    log.start_buffering(interval=3600)  # as the server does before gunicorn forks
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            log.record_question("from the worker", _response(True))
            log.flush()
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _questions(path) == ["from the worker"]
    assert log.flush() == 0  # nothing of the worker's is left in the parent
