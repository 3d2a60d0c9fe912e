"""Issue 17, finding 2: behind trusted proxies the client is counted from the right of X-Forwarded-For."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.test_server import _serve, _stop

ASK = {"question": "how long does a refund take?"}


def _client(make_app, **overrides):
    return make_app(**{"semantic": False, "log_questions": False, **overrides}).test_client()


def test_spoofed_first_hops_do_not_escape_the_rate_limit(index_dir, make_app):
    """nginx appends the real address: ten requests with a changing first hop are one client."""
    client = _client(make_app, rate_limit=5, trust_proxy=True)
    codes = [client.post("/api/ask", json=ASK, headers={"X-Forwarded-For": f"10.9.8.{i}, 203.0.113.50"}).status_code
             for i in range(10)]
    assert codes == [200] * 5 + [429] * 5
    other = client.post("/api/ask", json=ASK, headers={"X-Forwarded-For": "10.9.8.1, 203.0.113.51"})
    assert other.status_code == 200


@pytest.mark.parametrize("hops, forwarded, client_is", [
    (0, "198.51.100.1, 198.51.100.2", "127.0.0.1"),     # no proxy trusted: the header is ignored
    (1, "198.51.100.1, 198.51.100.2", "198.51.100.2"),  # one proxy: the address it appended
    (2, "198.51.100.1, 198.51.100.2", "198.51.100.1"),  # a CDN then nginx
    (2, "198.51.100.2", "127.0.0.1"),                   # fewer hops than proxies: not trusted
])
def test_client_address_is_counted_from_the_right(index_dir, hops, forwarded, client_is, make_app):
    from faqbot.serve.limits import client_address

    client = _client(make_app, trust_proxy=hops, rate_limit=1)
    seen = []
    client.application.extensions["faqbot.limiter"].hit = seen.append  # records the client, allows the request
    client.post("/api/ask", json=ASK, headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    client.post("/api/feedback", json={"question": "q", "passage_id": "refunds#2", "helpful": True},
                headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == [client_is, client_is]
    assert client_address({"REMOTE_ADDR": client_is}) == client_is


def _ask(port, forwarded):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/ask", json.dumps(ASK),
                     {"Content-Type": "application/json", "X-Forwarded-For": forwarded})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_gunicorn_counts_the_proxy_appended_address(index_dir, tmp_path):
    """The fast /api/ask path under gunicorn with FAQBOT_TRUST_PROXY=1 (the documented nginx setup)."""
    server, port = _serve(index_dir, tmp_path, FAQBOT_TRUST_PROXY="1", FAQBOT_RATE_LIMIT="5")
    try:
        codes = [_ask(port, f"10.0.0.{i}, 203.0.113.60") for i in range(10)]
        assert codes == [200] * 5 + [429] * 5
        assert _ask(port, "10.0.0.1, 203.0.113.61") == 200
    finally:
        _stop(server)
