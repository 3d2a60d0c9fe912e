"""fast_ask.FastAsk answers POST /api/ask with the same status, headers and body as the Flask view."""

from __future__ import annotations

import json

import pytest

from faqbot.serve.limits import COUNTED
from faqbot.serve.fast_ask import FastAsk


def _apps(make_app, tmp_path, **overrides):
    """The app as served (with FastAsk) and the same app answering through Flask only."""
    settings = {"question_log": str(tmp_path / "q.sqlite"), **overrides}
    fast = make_app(**settings)
    assert isinstance(fast.wsgi_app, FastAsk)
    flask_only = make_app(**{**settings, "question_log": str(tmp_path / "q2.sqlite")})
    flask_only.wsgi_app = flask_only.wsgi_app.wsgi_app
    return fast, flask_only


def _normalised(response) -> tuple:
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    if response.is_json and isinstance(response.get_json(), dict) and "took_ms" in response.get_json():
        data = response.get_json()
        data["took_ms"] = 0
        body = json.dumps(data).encode()
    headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]  # took_ms varies
    return response.status_code, sorted(headers, key=lambda kv: kv[0].lower()), body


REQUESTS = [
    {"json": {"question": "How long does a refund take?"}},
    {"json": {"question": "reset my password", "top_k": 2}},
    {"json": {"question": "quantum chromodynamics", "top_k": 50}},
    {"json": {"question": "  refund  ", "extra": [1, {"a": "é"}]}},
    {"json": {"question": "refund"}, "headers": {"Origin": "http://localhost:3000"}},
    {"json": {"question": "refund"}, "headers": {"Origin": "https://evil.example"}},
    {"json": {"question": "refund"}, "headers": {"Origin": "http://localhost"}, "base_url": "http://localhost"},
    {"data": '{"question": "refund"}', "content_type": "application/json; charset=utf-8"},
    {"data": '{"question": "refund"}', "content_type": "application/vnd.api+json"},
    {"data": '{"question": "refund"}', "content_type": "text/plain"},
    {"data": '{"question": "\\ud800"}', "content_type": "application/json"},
    {"data": '{"question": "refund"', "content_type": "application/json"},
    {"data": "[1, 2]", "content_type": "application/json"},
    {"data": "", "content_type": "application/json"},
    {"json": {"question": ""}},
    {"json": {"question": "x" * 1001}},
    {"json": {"question": "refund", "top_k": 0}},
    {"json": {"question": "refund", "top_k": True}},
    {"json": {"question": 42}},
    {"json": {"question": "refund " * 2400}},  # over 16 KiB: 413
]


@pytest.mark.parametrize("kwargs", REQUESTS, ids=range(len(REQUESTS)))
def test_fast_path_answers_exactly_like_flask(index_dir, tmp_path, kwargs, make_app):
    fast, flask_only = _apps(make_app, tmp_path)
    got = _normalised(fast.test_client().post("/api/ask", **kwargs))
    expected = _normalised(flask_only.test_client().post("/api/ask", **kwargs))
    assert got == expected


def test_fast_path_headers_follow_the_index_version_and_the_hooks(index_dir, tmp_path, make_app):
    fast, flask_only = _apps(make_app, tmp_path)
    response = fast.test_client().post("/api/ask", json={"question": "refund"})
    assert response.headers["X-Faqbot-Index-Version"] == fast.extensions["faqbot.live"].current().version
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["Vary"] == "Origin"

    @fast.after_request
    def added_later(resp):  # a hook added to the app shows in fast answers too
        resp.headers["X-Added"] = "yes"
        return resp

    fast.wsgi_app._headers.clear()
    assert fast.test_client().post("/api/ask", json={"question": "refund"}).headers["X-Added"] == "yes"


def test_fast_path_logs_each_question_once(index_dir, tmp_path, make_app):
    from faqbot.ops.qlog import QuestionLog

    fast, _ = _apps(make_app, tmp_path)
    client = fast.test_client()
    client.post("/api/ask", json={"question": "How long does a refund take?"})
    client.post("/api/ask", json={"question": ""})  # 400: not logged
    assert [r["question"] for r in QuestionLog(tmp_path / "q.sqlite").rows()] == ["How long does a refund take?"]


def test_rate_limit_counts_each_request_once_on_either_path(index_dir, tmp_path, make_app):
    fast, _ = _apps(make_app, tmp_path, rate_limit=4)
    client = fast.test_client()
    codes = [client.post("/api/ask", json={"question": "refund"}).status_code,
             client.post("/api/ask", json={"question": ""}).status_code,  # counted by the fast path, answered by Flask
             client.post("/api/ask", data="not json", content_type="text/plain").status_code,  # counted by Flask
             client.post("/api/ask", json={"question": "refund"}).status_code]
    assert codes == [200, 400, 400, 200]
    refused = client.post("/api/ask", json={"question": "refund"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert client.post("/api/ask", json={"question": "refund"},
                       environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert COUNTED not in refused.request.environ


def test_no_index_goes_to_flask_for_the_503(make_app, tmp_path):
    app = make_app(index_dir=str(tmp_path / "none"), question_log=str(tmp_path / "q.sqlite"))
    response = app.test_client().post("/api/ask", json={"question": "refund"})
    assert response.status_code == 503 and "error" in response.get_json()


def test_well_formed_questions_never_reach_flask_and_the_rest_do(index_dir, tmp_path, make_app):
    fast, _ = _apps(make_app, tmp_path)
    middleware, reached = fast.wsgi_app, []
    flask_app = middleware.wsgi_app
    middleware.wsgi_app = lambda environ, start_response: reached.append(environ["PATH_INFO"]) or flask_app(environ, start_response)
    client = fast.test_client()
    for question in ("How long does a refund take?", "quantum chromodynamics", "the the"):
        assert client.post("/api/ask", json={"question": question, "top_k": 3}).status_code == 200
    assert client.post("/api/ask", json={"question": "refund"}, headers={"Origin": "http://localhost:1"}).status_code == 200
    assert reached == []
    assert client.post("/api/ask", json={"question": ""}).status_code == 400
    assert client.get("/api/health").status_code == 200
    assert reached == ["/api/ask", "/api/health"]
