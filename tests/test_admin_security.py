"""Issue 17, finding 6: admin tokens of 16+ characters, a limit on wrong guesses, revocable sessions,
Secure cookies behind a TLS proxy and Origin checks on POST /admin/*."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from faqbot.errors import FaqbotError
from tests.test_server import REPO, _free_port

TOKEN = "an-admin-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.77"}


def _app(make_app, **overrides):
    return make_app(**{"semantic": False, "admin_token": TOKEN, **overrides})


@pytest.mark.parametrize("token, chars", [(" ", 0), ("   \t", 0), ("short-token", 11), ("  fifteen-chars-x  ", 15)])
def test_blank_or_short_tokens_are_refused_at_start(make_app, token, chars):
    with pytest.raises(FaqbotError) as err:
        make_app(admin_token=token)
    assert str(err.value) == (
        "Setting 'admin_token' (given to faqbot) must be empty (off) or a string of at least 16 characters "
        f"(spaces around it do not count); the value given has {chars} characters.")


def test_serve_refuses_a_blank_token_with_a_sentence(index_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env.update({"FAQBOT_ADMIN_TOKEN": " ", "FAQBOT_SEMANTIC": "0", "PYTHONPATH": str(REPO)})
    server = subprocess.Popen([sys.executable, "-m", "faqbot", "serve", "--port", str(_free_port()),
                               "--index", str(index_dir)], cwd=tmp_path, env=env, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        pytest.fail("faqbot serve started with a blank admin token")
    assert server.returncode == 1 and "faqbot serving" not in out
    assert err.startswith("Error: Setting 'admin_token' (FAQBOT_ADMIN_TOKEN) must be empty (off) or a "
                          "string of at least 16 characters")


def test_token_with_spaces_around_it_works_stripped(index_dir, make_app):
    client = _app(make_app, admin_token=f"  {TOKEN}\n").test_client()
    assert client.get("/api/reindex/status", headers=BEARER).status_code == 200


def test_blank_token_in_the_sign_in_form_is_refused(index_dir, make_app):
    client = _app(make_app).test_client()
    response = client.post("/admin/login", data={"token": ""})
    assert response.status_code == 403 and "Set-Cookie" not in response.headers
    assert client.post("/admin/login", data={"token": "   "}).status_code == 403


def test_wrong_tokens_are_limited_per_client_and_shared_by_workers(index_dir, make_app):
    worker_a, worker_b = _app(make_app).test_client(), _app(make_app).test_client()
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    codes = [(worker_a if i % 2 else worker_b).get("/api/reindex/status", headers=wrong).status_code
             for i in range(30)]
    assert codes == [403] * 5 + [429] * 25
    refused = worker_a.get("/api/reindex/status", headers=BEARER)  # even the right token waits now
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["error"].startswith("Too many wrong admin tokens from your address. Try again in ")
    paths = worker_a.get("/api/openapi.json").get_json()["paths"]
    assert "429" in paths["/api/reindex/status"]["get"]["responses"] and "429" in paths["/api/reindex"]["post"]["responses"]
    assert worker_a.post("/admin/login", data={"token": TOKEN}).status_code == 429
    assert worker_a.get("/admin/report", headers=BEARER).status_code == 429
    # Another address is not locked out, and a missing token is not a failure.
    assert worker_a.get("/api/reindex/status", headers=BEARER, environ_base=ELSEWHERE).status_code == 200
    assert [worker_a.get("/api/reindex/status", environ_base=ELSEWHERE).status_code for _ in range(8)] == [401] * 8


def test_sign_in_form_guesses_are_limited(index_dir, make_app):
    client = _app(make_app).test_client()
    codes = [client.post("/admin/login", data={"token": f"guess-{i:02d}-0123456789"}).status_code for i in range(8)]
    assert codes == [403] * 5 + [429] * 3


def _sign_in(client, **kwargs) -> tuple[str, str]:
    response = client.post("/admin/login", data={"token": TOKEN}, **kwargs)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    return re.search(r"faqbot_admin=([^;]+);", cookie).group(1), cookie


def test_signing_out_revokes_the_session_on_the_server(index_dir, make_app):
    client = _app(make_app).test_client()
    session, _ = _sign_in(client)
    assert client.get("/admin/report").status_code == 200
    assert client.post("/admin/logout").status_code == 303
    client.set_cookie("faqbot_admin", session, path="/admin")  # a copy of the cookie kept somewhere
    assert client.get("/admin/report").status_code == 401


def test_a_new_token_ends_every_session(index_dir, make_app):
    client = _app(make_app).test_client()
    session, _ = _sign_in(client)
    rotated = _app(make_app, admin_token="a-brand-new-admin-token-42").test_client()
    rotated.set_cookie("faqbot_admin", session, path="/admin")
    assert rotated.get("/admin/report").status_code == 401


@pytest.mark.parametrize("trust_proxy, proto, secure", [(1, "https", True), (1, "http", False), (0, "https", False)])
def test_cookie_is_secure_behind_a_tls_proxy(index_dir, trust_proxy, proto, secure, make_app):
    client = _app(make_app, trust_proxy=trust_proxy).test_client()
    _, cookie = _sign_in(client, headers={"X-Forwarded-Proto": proto, "X-Forwarded-For": "203.0.113.9"})
    assert ("; Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("headers", [{"Origin": "https://attacker.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_admin_posts_from_another_site_are_refused(index_dir, headers, make_app):
    client = _app(make_app).test_client()
    response = client.post("/admin/login", data={"token": TOKEN}, headers=headers)
    assert response.status_code == 403 and "Set-Cookie" not in response.headers
    _sign_in(client, headers={"Origin": "http://localhost"})  # the test client's own origin
    assert client.post("/admin/logout", headers=headers).status_code == 403
    assert client.get("/admin/report").status_code == 200  # still signed in


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_sessions_and_failures_are_shared_through_the_question_log_database(index_dir, tmp_path, request, engine, make_app):
    """Two replicas (own index folders, one log database): a session from one works on the other."""
    shared = (str(tmp_path / "shared-log.sqlite") if engine == "sqlite"
              else request.getfixturevalue("postgres").new_database("admin_shared"))
    replica_a = _app(make_app, question_log=shared).test_client()
    other_index = tmp_path / "replica-b" / "index"
    import shutil

    shutil.copytree(index_dir, other_index)
    replica_b = _app(make_app, index_dir=str(other_index), question_log=shared).test_client()
    session, _ = _sign_in(replica_a)
    replica_b.set_cookie("faqbot_admin", session, path="/admin")
    assert replica_b.get("/admin/report").status_code == 200
    assert replica_b.post("/admin/logout").status_code == 303
    replica_a.set_cookie("faqbot_admin", session, path="/admin")
    assert replica_a.get("/admin/report").status_code == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    codes = [(replica_a, replica_b)[i % 2].get("/api/reindex/status", headers=wrong).status_code for i in range(7)]
    assert codes == [403] * 5 + [429] * 2


def test_admin_requests_fail_closed_when_the_database_is_down(index_dir, monkeypatch, make_app):
    import sqlite3

    app = _app(make_app)
    client = app.test_client()

    def down(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(app.extensions["faqbot.admin"].db, "execute", down)
    response = client.get("/api/reindex/status", headers=BEARER)
    assert response.status_code == 503
    assert response.get_json() == {"error": "The admin database (the question log) cannot be reached; try again later."}
    assert client.get("/admin/report", headers=BEARER).status_code == 503
