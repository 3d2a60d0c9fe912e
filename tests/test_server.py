"""`faqbot serve` (gunicorn, 2 sync workers): answers, shares the rate limit, and writes every question."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from faqbot.config import Settings
from faqbot.ops.qlog import QuestionLog
from faqbot.serve.server import gunicorn_options

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, body: dict, source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/api/ask", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _serve(index_dir: Path, tmp_path: Path, **env) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    environ.update({"FAQBOT_SEMANTIC": "0", "PYTHONPATH": str(REPO), **env})
    server = subprocess.Popen([sys.executable, "-m", "faqbot", "serve", "--port", str(port), "--workers", "2",
                               "--index", str(index_dir)], cwd=tmp_path, env=environ,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
        time.sleep(0.1)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_serve_uses_sync_workers_with_a_question_log_flush_on_exit():
    options = gunicorn_options(Settings(workers=3, port=8123), app=None)
    assert options["worker_class"] == "sync" and options["workers"] == 3 and options["bind"] == "127.0.0.1:8123"
    assert callable(options["worker_exit"]) and callable(options["post_worker_init"])


def test_workers_write_every_question_and_the_rest_on_sigterm(index_dir, tmp_path):
    log_path = tmp_path / "questions.sqlite"
    server, port = _serve(index_dir, tmp_path, FAQBOT_RATE_LIMIT="0", FAQBOT_QUESTION_LOG=str(log_path))
    try:
        for i in range(20):  # a fresh connection each: both workers answer
            status, headers, body = _post(port, {"question": f"how long does a refund take {i}"})
            assert status == 200 and json.loads(body)["answer"]["id"] == "refunds#2"
            assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        deadline = time.monotonic() + 10  # each worker writes its questions within a second
        while len(QuestionLog(log_path).rows()) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(QuestionLog(log_path).rows()) == 20
        for i in range(5):
            _post(port, {"question": f"reset my password {i}"})
    finally:
        _stop(server)
    rows = QuestionLog(log_path).rows()
    assert sorted(r["question"] for r in rows) == sorted(
        [f"how long does a refund take {i}" for i in range(20)] + [f"reset my password {i}" for i in range(5)])


def test_rate_limit_holds_across_the_workers(index_dir, tmp_path):
    server, port = _serve(index_dir, tmp_path, FAQBOT_RATE_LIMIT="5", FAQBOT_LOG_QUESTIONS="0")
    try:
        codes = [_post(port, {"question": "how long does a refund take"}, "127.0.0.2")[0] for _ in range(8)]
        assert codes == [200] * 5 + [429] * 3
        status, headers, body = _post(port, {"question": "how long does a refund take"}, "127.0.0.2")
        assert status == 429 and int(headers["Retry-After"]) >= 1 and "Too many requests" in json.loads(body)["error"]
        assert _post(port, {"question": "how long does a refund take"}, "127.0.0.3")[0] == 200
    finally:
        _stop(server)
