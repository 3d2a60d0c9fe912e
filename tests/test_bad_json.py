"""Issue 17, finding 1: a body that does not parse (deep nesting included) is a 400 JSON error, never a 500."""

from __future__ import annotations

import http.client
import io

import pytest

from tests.test_server import _serve, _stop

DEEP = b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # 10 KB, under the 16 KiB body limit
DEEP_OBJECT = b'{"a":' * 2000 + b"1" + b"}" * 2000
BROKEN = b'{"question": "refund"'
API_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}


def _make_app(make_app, **overrides):
    return make_app(**{"semantic": False, **overrides})


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback", "/api/reindex"])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, BROKEN, b"\xff\xfe{", b"[" * 16000],
                         ids=["deep-list", "deep-object", "cut-short", "not-utf8", "unclosed"])
def test_unparseable_body_is_a_400_json_error_on_every_post(index_dir, path, body, make_app):
    client = _make_app(make_app, admin_token="s3cret-admin-token-0123").test_client()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer s3cret-admin-token-0123"}
    response = client.post(path, data=body, headers=headers)
    assert response.status_code == 400, response.data[:300]
    assert response.get_json()["error"].startswith("The request body is not valid JSON (")
    for key, value in API_HEADERS.items():
        assert response.headers[key] == value


def test_chunked_deep_body_is_a_400(index_dir, make_app):
    client = _make_app(make_app).test_client()
    response = client.post("/api/ask", input_stream=io.BytesIO(DEEP), environ_overrides={"wsgi.input_terminated": True},
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]


def test_bad_bodies_count_against_the_rate_limit(index_dir, make_app):
    client = _make_app(make_app, rate_limit=2).test_client()
    codes = [client.post("/api/ask", data=DEEP, content_type="application/json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def _raw(port, method, path, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_gunicorn_answers_deep_json_with_400_and_security_headers(index_dir, tmp_path):
    """The fast /api/ask path under gunicorn: a JSON 400, not gunicorn's bare HTML 500."""
    server, port = _serve(index_dir, tmp_path, FAQBOT_RATE_LIMIT="0")
    try:
        for path in ("/api/ask", "/api/feedback"):
            status, headers, data = _raw(port, "POST", path, DEEP, {"Content-Type": "application/json"})
            assert status == 400, data[:300]
            assert headers["Content-Type"] == "application/json"
            assert b"nested too deeply" in data
            for key, value in API_HEADERS.items():
                assert headers[key] == value
        status, _, data = _raw(port, "POST", "/api/ask", b'{"question": "refund"}', {"Content-Type": "application/json"})
        assert status == 200
    finally:
        _stop(server)
    assert b"RecursionError" not in server.stderr.read()
