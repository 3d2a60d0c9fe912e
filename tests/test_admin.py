"""Admin API: POST /api/reindex starts a background re-index; GET /api/reindex/status reports it."""

import json
import threading
import time

import pytest

from faqbot.index.lock import BuildLock

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin_app(corpus_dir, make_app):
    return make_app(sources=[str(corpus_dir)], semantic=False, admin_token=TOKEN, log_questions=False, rate_limit=0)


@pytest.fixture
def admin(admin_app):
    return admin_app.test_client()


def wait_for_job(client, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/api/reindex/status", headers=AUTH).get_json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError("the re-index job did not finish")


def test_admin_api_is_off_without_a_token(client):
    assert client.post("/api/reindex", headers=AUTH).status_code == 404
    assert client.get("/api/reindex/status", headers=AUTH).status_code == 404


@pytest.mark.parametrize("header, status", [
    (None, 401),
    ("Basic czNjcmV0", 401),
    ("Bearer ", 401),
    ("Bearer wrong-token", 403),
    (f"Bearer {TOKEN}x", 403),
])
def test_admin_api_needs_the_right_bearer_token(admin, header, status):
    headers = {"Authorization": header} if header else {}
    for response in (admin.post("/api/reindex", headers=headers), admin.get("/api/reindex/status", headers=headers)):
        assert response.status_code == status
        assert set(response.get_json()) == {"error"}
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_reindex_runs_in_the_background_and_the_app_serves_the_new_index(admin, corpus_dir):
    before = admin.get("/api/health").get_json()["version"]
    assert admin.get("/api/reindex/status", headers=AUTH).get_json() == {"job": None, "state": "none"}
    (corpus_dir / "cycling.md").write_text("# Cycling\n\nCycle lanes keep commuters safe from cars in every town.\n")

    response = admin.post("/api/reindex", headers=AUTH)
    assert response.status_code == 202
    job = response.get_json()
    assert job["state"] == "running" and len(job["job"]) == 12 and job["full"] is False

    status = wait_for_job(admin)
    assert status["job"] == job["job"]
    assert status["state"] == "done"
    assert status["errors"] == []
    assert status["counts"] == {"articles": 5, "faq_pairs": 2, "paragraphs": status["counts"]["paragraphs"],
                                "read": 1, "reused": 4, "removed": 0, "skipped": 0,  # the fixture built with the same builder
                                "fetched": 0, "unchanged": 0, "failed": 0}
    # The worker that ran the job is told at once: no wait for its manifest check.
    health = admin.get("/api/health")
    assert health.get_json()["version"] == status["version"] != before
    assert health.get_json()["articles"] == 5
    ask = admin.post("/api/ask", json={"question": "are cycle lanes safe"})
    assert ask.headers["X-Faqbot-Index-Version"] == status["version"]

    again = admin.post("/api/reindex", headers=AUTH, json={"full": True})
    assert again.status_code == 202 and again.get_json()["full"] is True
    assert wait_for_job(admin)["counts"]["read"] == 5  # full: nothing reused


def test_only_one_reindex_at_a_time(admin, index_dir):
    with BuildLock(index_dir):  # a re-index running in another worker or in a terminal
        response = admin.post("/api/reindex", headers=AUTH)
    assert response.status_code == 409
    assert response.get_json() == {"error": "A re-index is already running; see GET /api/reindex/status."}
    assert admin.post("/api/reindex", headers=AUTH).status_code == 202
    wait_for_job(admin)


@pytest.mark.parametrize("body, error", [
    ('{"full": "yes"}', 'The body must be empty or a JSON object like {"full": true}.'),
    ("[1]", 'The body must be empty or a JSON object like {"full": true}.'),
    ("not json", "The request body is not valid JSON (Expecting value: line 1 column 1 (char 0))."),
])
def test_reindex_rejects_a_bad_body(admin, body, error):
    response = admin.post("/api/reindex", headers={**AUTH, "Content-Type": "application/json"}, data=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": error}


def test_failed_reindex_is_reported_and_the_old_index_keeps_serving(admin, corpus_dir):
    before = admin.get("/api/health").get_json()["version"]
    for path in corpus_dir.iterdir():
        path.unlink()
    assert admin.post("/api/reindex", headers=AUTH).status_code == 202
    status = wait_for_job(admin)
    assert status["state"] == "failed"
    assert status["errors"][0].startswith(f"Nothing to index in {corpus_dir} (")
    assert admin.get("/api/health").get_json()["version"] == before


def test_job_whose_process_died_reads_as_failed(admin, admin_app):
    store = admin_app.extensions["faqbot.reindex"].store
    store.save({"job": "abc", "state": "running", "errors": []})  # its lease was never taken, or has expired
    status = admin.get("/api/reindex/status", headers=AUTH).get_json()
    assert status["state"] == "failed"
    assert status["errors"] == ["interrupted: the re-index process stopped before it finished"]


def test_the_build_runs_in_its_own_process(admin, admin_app):
    jobs = admin_app.extensions["faqbot.reindex"]
    assert admin.post("/api/reindex", headers=AUTH).status_code == 202
    assert jobs.store.holder() is not None  # the lease is held while the job process builds
    assert wait_for_job(admin)["state"] == "done"
    assert jobs.store.holder() is None
    assert [t.name for t in threading.enumerate() if t.name == "faqbot-reindex"] == []


def test_answers_carry_the_index_version(client, index_dir):
    version = json.loads((index_dir / "manifest.json").read_text())["version"]
    assert client.post("/api/ask", json={"question": "refund"}).headers["X-Faqbot-Index-Version"] == version
    assert client.get("/api/health").headers["X-Faqbot-Index-Version"] == version
