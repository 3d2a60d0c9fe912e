"""Issue #8: rate limits, security headers and the OpenAPI document, checked against real responses."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time

import hypothesis
import pytest
import schemathesis
from schemathesis import checks as st_checks

from faqbot.serve.limits import PAGE_CSP, RateLimiter

ASK = {"question": "how long does a refund take?"}
FEEDBACK = {"question": "how long does a refund take?", "passage_id": "refunds#2", "helpful": True}


# Rate limit ------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_and_a_sentence(index_dir, make_app):
    client = make_app(rate_limit=3).test_client()
    for _ in range(3):
        assert client.post("/api/ask", json=ASK).status_code == 200
    response = client.post("/api/ask", json=ASK)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    error = response.get_json()["error"]
    assert error.startswith("Too many requests: the limit is 3 a minute. Try again in ")
    assert set(response.get_json()) == {"error"}


def test_rate_limit_is_per_client_and_covers_feedback(index_dir, make_app):
    client = make_app(rate_limit=2).test_client()
    first, second = {"REMOTE_ADDR": "198.51.100.1"}, {"REMOTE_ADDR": "198.51.100.2"}
    assert client.post("/api/ask", json=ASK, environ_base=first).status_code == 200
    assert client.post("/api/feedback", json=FEEDBACK, environ_base=first).status_code == 204
    assert client.post("/api/feedback", json=FEEDBACK, environ_base=first).status_code == 429
    assert client.post("/api/ask", json=ASK, environ_base=first).status_code == 429
    assert client.post("/api/ask", json=ASK, environ_base=second).status_code == 200
    # Reads are never limited.
    assert client.get("/api/health", environ_base=first).status_code == 200
    assert client.get("/api/starters", environ_base=first).status_code == 200


def test_rate_limit_zero_turns_it_off(index_dir, make_app):
    app = make_app(rate_limit=0)
    client = app.test_client()
    assert "faqbot.limiter" not in app.extensions
    assert all(client.post("/api/ask", json=ASK).status_code == 200 for _ in range(70))


def test_default_rate_limit_is_60_a_minute(index_dir, make_app):
    client = make_app(log_questions=False).test_client()
    codes = [client.post("/api/ask", json={"question": "refund", "top_k": 1}).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]


@pytest.mark.parametrize("trust_proxy, blocked_second", [(False, True), (True, False)])
def test_forwarded_for_counts_only_behind_a_trusted_proxy(index_dir, trust_proxy, blocked_second, make_app):
    client = make_app(rate_limit=1, trust_proxy=trust_proxy).test_client()
    a = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    b = {"X-Forwarded-For": "203.0.113.8"}
    assert client.post("/api/ask", json=ASK, headers=a).status_code == 200
    assert client.post("/api/ask", json=ASK, headers=a).status_code == 429
    assert (client.post("/api/ask", json=ASK, headers=b).status_code == 429) is blocked_second


def test_window_rolls_over_and_retry_after_counts_down(tmp_path):
    start = 60.0 * 16_667  # the start of a one-minute window
    clock = [start + 15]
    limiter = RateLimiter(tmp_path / "rl.sqlite", 2, now=lambda: clock[0])
    assert limiter.hit("a") is None
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 45.0
    assert limiter.hit("b") is None
    clock[0] = start + 60
    assert limiter.hit("a") is None


def _hammer(path, count, queue, now):
    limiter = RateLimiter(path, 60, now=lambda: now)  # one minute window for both processes, however slow they start
    queue.put(sum(limiter.hit("same-client") is not None for _ in range(count)))


def test_rate_limit_counts_are_shared_by_worker_processes(tmp_path):
    """Two processes, 50 requests each, limit 60: exactly 40 refusals, no lost updates."""
    path = tmp_path / "rl.sqlite"
    RateLimiter(path, 60)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    middle = time.time() // 60 * 60 + 30
    workers = [ctx.Process(target=_hammer, args=(path, 50, queue, middle)) for _ in range(2)]
    for w in workers:
        w.start()
    refused = queue.get(timeout=60) + queue.get(timeout=60)
    for w in workers:
        w.join(timeout=30)
    assert refused == 40


def test_no_ip_address_is_stored(index_dir, tmp_path, make_app):
    app = make_app(rate_limit=5, trust_proxy=True)
    client = app.test_client()
    for _ in range(3):
        client.post("/api/ask", json=ASK, headers={"X-Forwarded-For": "203.0.113.77"})
    client.post("/api/feedback", json=FEEDBACK, headers={"X-Forwarded-For": "203.0.113.77"})
    settings = app.extensions["faqbot.settings"]
    for path in (app.extensions["faqbot.limiter"].path, settings.question_log_path):
        db = sqlite3.connect(path)
        dump = "\n".join(db.iterdump())
        db.close()
        assert "203.0.113.77" not in dump and "127.0.0.1" not in dump
    rows = sqlite3.connect(app.extensions["faqbot.limiter"].path).execute("SELECT client, count FROM hits").fetchall()
    assert len(rows) == 1 and rows[0][1] == 4 and len(rows[0][0]) == 24


# Security headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/articles/open-source-ai-must-win"])
def test_pages_get_a_strict_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert "frame-ancestors 'none'" in PAGE_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path, mimetype", [("/widget.js", "text/javascript"), ("/widget.css", "text/css")])
def test_widget_files_stay_embeddable_cross_origin(client, path, mimetype):
    response = client.get(path, headers={"Origin": "https://blog.example.org"})
    assert response.status_code == 200
    assert response.mimetype == mimetype  # nosniff needs the right type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Content-Security-Policy" not in response.headers
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/ask", ASK), ("post", "/api/ask", {}), ("get", "/api/health", None),
    ("get", "/api/nothing", None), ("get", "/api/ask", None),
])
def test_api_responses_get_security_headers(client, method, path, body):
    response = getattr(client, method)(path, json=body)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_rate_limited_answer_keeps_cors_for_the_widget(index_dir, make_app):
    client = make_app(rate_limit=1).test_client()
    origin = {"Origin": "http://localhost:5173"}
    client.post("/api/ask", json=ASK, headers=origin)
    response = client.post("/api/ask", json=ASK, headers=origin)
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


# Other limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["²", "0", "21", "-1", "x", "1.5"])
def test_starters_limit_that_is_not_a_plain_number_gets_400(client, limit):
    response = client.get("/api/starters", query_string={"limit": limit})
    assert response.status_code == 400
    assert response.get_json() == {"error": "'limit' must be an integer from 1 to 20."}


def test_question_limit_counts_characters_after_stripping(client):
    assert client.post("/api/ask", json={"question": "refund " + " " * 2000}).status_code == 200
    response = client.post("/api/ask", json={"question": "é" * 1001})
    assert response.status_code == 400


# OpenAPI -------------------------------------------------------------------------------------------


def test_openapi_document_lists_every_api_endpoint(app, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.0.3"
    routes = {(rule.rule, method.lower()) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == routes
    passage = doc["components"]["schemas"]["Passage"]
    assert set(passage["required"]) == {"id", "kind", "text", "question", "title", "section", "url", "link",
                                        "score", "confidence"}


@pytest.fixture
def api_schema(index_dir, make_app):
    app = make_app(rate_limit=0)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


@schema.parametrize()
@hypothesis.settings(max_examples=20, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_real_responses_conform_to_the_openapi_document(case):
    """Generated requests (valid and invalid) to every operation: no 5xx, every response as documented."""
    case.call_and_validate(checks=CHECKS)


def test_documented_answer_schema_matches_real_responses(client):
    """Also check the shapes of answered, unanswered and rate-limited responses, which generation rarely hits."""
    import jsonschema

    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def validate(instance, name):
        resolver = {"components": {"schemas": _nullable_to_jsonschema(schemas)}, "$ref": f"#/components/schemas/{name}"}
        jsonschema.validate(instance, resolver)

    validate(client.post("/api/ask", json=ASK).get_json(), "Answer")
    validate(client.post("/api/ask", json={"question": "quantum chromodynamics"}).get_json(), "Answer")
    validate(client.post("/api/ask", json={"question": "x" * 2000}).get_json(), "Error")
    validate(client.get("/api/health").get_json(), "Health")
    validate(client.get("/api/starters?limit=20").get_json(), "Starters")


def _nullable_to_jsonschema(node):
    """OpenAPI 3.0 `nullable: true` -> JSON Schema: allow null as well."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_jsonschema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [{k: v for k, v in node.items() if k != "description"}, {"type": "null"}]}
    return node


@pytest.mark.parametrize("path, body", [
    ("/api/ask", '{"question": "refund \\ud800"}'),
    ("/api/feedback", '{"question": "refund", "passage_id": "refunds#2\\udfff", "helpful": true}'),
])
def test_lone_surrogate_escapes_get_400_not_500(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request body must be valid Unicode text (it has a lone surrogate escape)."}
