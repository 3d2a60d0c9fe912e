"""More than one machine: the question log on PostgreSQL, the rate limit on Redis, one re-index
job for all replicas. Real servers (tests/cluster_servers.py), started once per session; two real
`faqbot serve` replicas, each with its own copy of the index and its own working folder."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from faqbot.serve.jobs import JobStore
from faqbot.serve.limits import RedisRateLimiter
from faqbot.ops.qlog import QuestionLog
from faqbot.ops.report import build_report
from faqbot.ops.storage import Database, describe
from tests.cluster_servers import free_port

REPO = Path(__file__).resolve().parent.parent
TOKEN = "cluster-admin-token-0123456789"


def _answer(passage_id: str | None, score: float = 3.0) -> dict:
    best = {"id": passage_id, "score": score, "confidence": 0.8} if passage_id else None
    return {"answer": best, "results": [best] if best else []}


@pytest.fixture(params=["sqlite", "postgresql"])
def log_target(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "questions.sqlite")
    return request.getfixturevalue("postgres").new_database(f"t_{uuid.uuid4().hex[:10]}")


def _fill(log: QuestionLog, clock: list[float]) -> None:
    """The same questions, answers and verdicts, in the same order, whatever the engine."""
    script = [("how do refunds work", "refunds#0"), ("How do refunds work?", "refunds#0"),
              ("what does shipping cost", "shipping#1"), ("how much is delivery", None),
              ("how much does delivery cost", None), ("can I pay with bitcoin", None)]
    for question, passage in script:
        clock[0] += 60
        log.record_question(question, _answer(passage))
    clock[0] += 10
    log.record_feedback("how do refunds work", "refunds#0", False)
    log.record_feedback("what does shipping cost", "shipping#1", True)


def test_schema_is_created_on_first_use_and_versioned(log_target):
    QuestionLog(log_target)
    QuestionLog(log_target)  # a second process opening it applies nothing twice
    db = Database(log_target)
    assert db.schema_versions() == [1, 2, 3]
    assert [r["name"] for r in db.query("SELECT name FROM schema_migrations ORDER BY version")] == [
        "question log", "re-index jobs and the build lease", "admin sessions and wrong-token counts"]


def test_report_retention_and_grouping_are_the_same_on_both_engines(postgres, tmp_path):
    reports = []
    for target in (str(tmp_path / "q.sqlite"), postgres.new_database("same_report")):
        clock = [1_700_000_000.0]
        log = QuestionLog(target, retention_days=1, now=lambda: clock[0])
        _fill(log, clock)
        assert [r["helpful"] for r in log.rows()] == [0, None, 1, None, None, None]
        reports.append(build_report(target, since=0, now=clock[0]))
        clock[0] += 86400 - 220  # the first two questions (and the verdict on the first) are past retention
        assert log.prune() == 2
        assert [r["question"] for r in log.rows("feedback")] == ["how do refunds work", "what does shipping cost"]
        assert len(log.rows()) == 4
    sqlite_report, pg_report = reports
    assert pg_report == sqlite_report
    assert sqlite_report["totals"] == {"questions": 6, "answered": 3, "unanswered": 3, "answered_rate": 0.5,
                                       "helpful": 1, "not_helpful": 1}
    assert sqlite_report["most_asked"][0] == {"question": "How do refunds work?", "count": 2, "answered": 2}
    # "asked in other words": the two delivery questions form one group.
    assert sqlite_report["unanswered"][0]["count"] == 2
    assert set(sqlite_report["unanswered"][0]["variants"]) == {"how much is delivery", "how much does delivery cost"}


def test_admin_page_reads_the_postgresql_log(postgres, make_app):
    url = postgres.new_database("admin_page")
    app = make_app(semantic=False, question_log=url, admin_token=TOKEN, rate_limit=0)
    client = app.test_client()
    assert client.post("/api/ask", json={"question": "how long does a refund take"}).status_code == 200
    page = client.get("/admin/report?since=7d&format=json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    assert page.get_json()["most_asked"] == [{"question": "how long does a refund take", "count": 1, "answered": 1}]
    html = client.get("/admin/report", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert "how long does a refund take" in html


def test_the_buffer_is_bounded_and_drops_the_oldest(tmp_path, postgres):
    log = QuestionLog("postgresql://faqbot@127.0.0.1:1/nowhere")  # nothing listens on port 1
    log.start_buffering(interval=3600, max_pending=10, max_buffer=10)
    for i in range(15):
        log.record_question(f"q{i}", _answer(None))
    with pytest.raises(log.db.errors):
        log.flush()
    assert [row[1] for row in log._pending] == [f"q{i}" for i in range(5, 15)] and log.dropped == 5
    log._pending.clear()  # nothing left for the exit hook to retry


def test_an_unreachable_log_is_retried_once_an_interval_not_at_every_question():
    log = QuestionLog("postgresql://faqbot@127.0.0.1:1/nowhere")  # a replica started while PostgreSQL is down
    attempts = []
    flush = log.flush
    log.flush = lambda: attempts.append(1) or flush()
    log.start_buffering(interval=3600, max_pending=2, max_buffer=100)
    log.record_question("q0", _answer(None))
    log.record_question("q1", _answer(None))  # a full batch: the writer is woken at once, and fails
    deadline = time.monotonic() + 10
    while log._failing_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(2, 50):
        log.record_question(f"q{i}", _answer(None))
    time.sleep(0.3)
    assert len(attempts) == 1 and len(log._pending) == 50
    log._pending.clear()


def test_job_lease_lets_one_build_start(log_target):
    QuestionLog(log_target)
    clock = [1000.0]
    a, b = JobStore(log_target, now=lambda: clock[0]), JobStore(log_target, now=lambda: clock[0])
    assert a.claim("job-a") and not b.claim("job-b")
    clock[0] += 20
    assert a.renew("job-a") and not b.claim("job-b")
    clock[0] += 31  # job-a's process died: its lease runs out
    assert a.holder() is None and b.claim("job-b") and not a.renew("job-a")
    b.release("job-b")
    assert a.claim("job-a2")


def test_redis_limit_is_one_count_for_all_replicas(redis_server):
    replica_a, replica_b = RedisRateLimiter(redis_server.url, 3), RedisRateLimiter(redis_server.url, 3)
    client = f"198.51.100.{uuid.uuid4().int % 250}"
    while time.time() % 60 > 55:  # all four hits in one window
        time.sleep(0.5)
    assert [replica_a.hit(client), replica_b.hit(client), replica_a.hit(client)] == [None, None, None]
    assert replica_b.hit(client) >= 1.0
    assert replica_a.hit("203.0.113.9") is None  # another client has its own count
    assert client not in repr(redis_server_keys(redis_server))  # stored as a salted hash


def redis_server_keys(redis_server) -> list:
    import redis

    return redis.Redis.from_url(redis_server.url).keys("*")


def test_unreachable_redis_fails_open_and_warns_once_a_minute(caplog):
    limiter = RedisRateLimiter(f"redis://:secret@127.0.0.1:{free_port()}/0", 1)
    with caplog.at_level(logging.WARNING, logger="faqbot"):
        results = [limiter.hit("192.0.2.1") for _ in range(5)]
        limiter._down_until = 0  # the retry pause is over: it tries again, and does not warn again yet
        results.append(limiter.hit("192.0.2.1"))
    assert results == [None] * 6
    warnings = [r.getMessage() for r in caplog.records if "rate limit store" in r.getMessage()]
    assert len(warnings) == 1 and "secret" not in warnings[0] and ":***@" in warnings[0]


def test_a_password_never_shows():
    assert describe("postgresql://u:pw@db:5432/faq") == "postgresql://u:***@db:5432/faq"
    assert describe("/srv/faqbot/questions.sqlite") == "/srv/faqbot/questions.sqlite"


# --- two `faqbot serve` replicas -------------------------------------------------------------------


class Replica:
    def __init__(self, name: str, folder: Path, index_src: Path, corpus_src: Path, env: dict):
        self.name, self.folder = name, folder
        folder.mkdir()
        shutil.copytree(index_src, folder / "index")
        shutil.copytree(corpus_src, folder / "articles")
        self.port = free_port()
        self.stderr_path = folder / "stderr.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
        environ.update({"PYTHONPATH": str(REPO), "FAQBOT_SEMANTIC": "0", "FAQBOT_SOURCES": str(folder / "articles"),
                        "FAQBOT_ADMIN_TOKEN": TOKEN, "FAQBOT_TRUST_PROXY": "1", **env})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "faqbot", "serve", "--port", str(self.port), "--workers", "2",
             "--index", str(folder / "index")], cwd=folder, env=environ,
            stdout=subprocess.DEVNULL, stderr=self.stderr_path.open("wb"))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while True:
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None and time.monotonic() < deadline, self.stderr()
            time.sleep(0.1)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            data = json.dumps(body) if body is not None else None
            conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {})
        finally:
            conn.close()

    def ask(self, question: str, client: str) -> int:
        return self.request("POST", "/api/ask", {"question": question}, {"X-Forwarded-For": client})[0]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def cluster(postgres, redis_server, tmp_path_factory):
    from faqbot.index.incremental import index_sources
    from tests.conftest import write_sample_articles

    root = tmp_path_factory.mktemp("cluster")
    corpus = write_sample_articles(root / "articles")
    index_sources([corpus], root / "built-index")
    url = postgres.new_database("replicas")
    env = {"FAQBOT_QUESTION_LOG": url, "FAQBOT_RATE_LIMIT_STORAGE": redis_server.url, "FAQBOT_RATE_LIMIT": "6"}
    replicas = [Replica(name, root / name, root / "built-index", corpus, env) for name in ("a", "b")]
    try:
        for replica in replicas:
            replica.wait_ready()
        yield {"replicas": replicas, "url": url, "postgres": postgres, "redis": redis_server}
    finally:
        for replica in replicas:
            replica.stop()


def _report(url: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    done = subprocess.run([sys.executable, "-m", "faqbot", "report", "--since", "all", "--format", "json",
                           "--limit", "100", "--log", url], capture_output=True, text=True, timeout=60,
                          env={**environ, "PYTHONPATH": str(REPO), "FAQBOT_SEMANTIC": "0"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _asked(url: str) -> set[str]:
    return {row["question"] for row in _report(url)["most_asked"]}


def _wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_questions_asked_on_both_replicas_appear_in_one_report(cluster):
    a, b = cluster["replicas"]
    assert a.ask("how long does a refund take", "10.1.0.1") == 200
    assert b.ask("can I reset my password", "10.1.0.2") == 200
    assert b.ask("when do tomatoes need sun", "10.1.0.3") == 200
    wanted = {"how long does a refund take", "can I reset my password", "when do tomatoes need sun"}
    assert _wait_for(lambda: wanted <= _asked(cluster["url"]))  # written within a second or so


def test_one_clients_requests_across_both_replicas_are_limited_once(cluster):
    a, b = cluster["replicas"]
    while time.time() % 60 > 50:  # all requests in one minute window
        time.sleep(0.5)
    statuses = [(a if i % 2 else b).ask(f"refund question {i}", "10.2.0.1") for i in range(10)]
    assert statuses == [200] * 6 + [429] * 4  # the limit is 6 a minute in all, not 6 per replica
    assert a.ask("refund", "10.2.0.2") == 200 and b.ask("refund", "10.2.0.3") == 200  # others are not limited


def test_a_replica_answers_with_postgresql_and_redis_stopped_and_writes_later(cluster):
    a, b = cluster["replicas"]
    cluster["postgres"].stop()
    cluster["redis"].stop()
    try:
        statuses = [a.ask(f"asked during the outage {i}", "10.3.0.1") for i in range(8)]
        statuses += [b.ask("asked on b during the outage", "10.3.0.1")]
        # Both writers must meet the outage before the servers return, or b may flush after it ends.
        failing = "cannot write the question log postgresql://faqbot@127.0.0.1"
        assert _wait_for(lambda: failing in a.stderr() and failing in b.stderr(), timeout=10)
    finally:
        cluster["redis"].start()
        cluster["postgres"].start()
    assert statuses == [200] * 9  # answered, and not limited: Redis was away (fail open, limit 6)
    wanted = {f"asked during the outage {i}" for i in range(8)} | {"asked on b during the outage"}
    assert _wait_for(lambda: wanted <= _asked(cluster["url"]), timeout=40)
    assert _wait_for(lambda: "is back after" in a.stderr() and "is back after" in b.stderr(), timeout=10)
    assert "rate limit store redis://127.0.0.1" in a.stderr()


def test_two_reindex_requests_on_two_replicas_start_one_build(cluster):
    a, b = cluster["replicas"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    results = {}
    start = threading.Barrier(2)

    def post(replica):
        start.wait()
        results[replica.name] = replica.request("POST", "/api/reindex", {"full": True}, auth)

    threads = [threading.Thread(target=post, args=(r,)) for r in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in results.values())
    assert codes == [202, 409]
    job = next(body["job"] for code, body in results.values() if code == 202)

    def finished():
        states = [r.request("GET", "/api/reindex/status", headers=auth)[1] for r in (a, b)]
        return states if states[0]["state"] != "running" else None

    states = _wait_for(finished, timeout=90)
    assert states and states[0] == states[1]  # every replica tells the same story
    assert states[0]["job"] == job and states[0]["state"] == "done", states
