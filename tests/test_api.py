"""The HTTP API: response shapes, no-answer, and every bad request answered with a 4xx."""

import pytest

PASSAGE_KEYS = {"id", "kind", "text", "question", "title", "section", "url", "link", "score", "confidence"}


def test_ask_returns_the_faq_answer_first(client):
    response = client.post("/api/ask", json={"question": "how long does a refund take?"})
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"question", "answer", "results", "took_ms", "lang", "terms", "did_you_mean",
                         "uncertain"}  # additive (issues 18, 20)
    assert data["question"] == "how long does a refund take?"
    assert set(data["answer"]) == PASSAGE_KEYS
    assert data["answer"]["question"] == "How long does a refund take?"
    assert data["answer"]["text"] == "Refunds reach your card within five working days."
    assert data["answer"]["link"] == "/articles/refunds#:~:text=How%20long%20does%20a%20refund%20take%3F"
    assert data["results"][0] == data["answer"]
    assert 0 <= data["answer"]["confidence"] <= 1
    assert isinstance(data["took_ms"], float)


def test_ask_deep_links_to_a_heading_id(client):
    data = client.post("/api/ask", json={"question": "How do I reset my password?"}).get_json()
    assert data["answer"]["link"] == "https://example.com/help/account#reset"


def test_top_k_sets_the_number_of_results(client):
    data = client.post("/api/ask", json={"question": "refund", "top_k": 2}).get_json()
    assert len(data["results"]) == 2
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_unrelated_question_has_no_answer_but_results(client):
    data = client.post("/api/ask", json={"question": "quantum chromodynamics lattice gauge"}).get_json()
    assert data["answer"] is None
    assert len(data["results"]) == 5
    assert all(set(r) == PASSAGE_KEYS for r in data["results"])


def test_question_of_only_stopwords_gets_no_answer(client):
    data = client.post("/api/ask", json={"question": "what is the ?!"}).get_json()
    assert data["answer"] is None


@pytest.mark.parametrize("body, message", [
    ({}, "'question' must be a string."),
    ({"question": None}, "'question' must be a string."),
    ({"question": 42}, "'question' must be a string."),
    ({"question": ""}, "The question is empty."),
    ({"question": "   \n\t"}, "The question is empty."),
    ({"question": "x" * 1001}, "The question is too long (1001 characters; the limit is 1000)."),
    ({"question": "refund", "top_k": 0}, "'top_k' must be an integer from 1 to 50."),
    ({"question": "refund", "top_k": 51}, "'top_k' must be an integer from 1 to 50."),
    ({"question": "refund", "top_k": "3"}, "'top_k' must be an integer from 1 to 50."),
    ({"question": "refund", "top_k": True}, "'top_k' must be an integer from 1 to 50."),
    ([], "The request body must be a JSON object."),
])
def test_bad_requests_get_400_with_a_sentence(client, body, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_body_that_is_not_json_gets_400(client):
    response = client.post("/api/ask", data="question=refund", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]
    response = client.post("/api/ask", data="{broken", content_type="application/json")
    assert response.status_code == 400


def test_wrong_method_and_unknown_path(client):
    assert client.get("/api/ask").status_code == 405
    assert "error" in client.get("/api/ask").get_json()
    assert client.get("/api/nothing").status_code == 404


def test_oversized_body_gets_413(client):
    response = client.post("/api/ask", data=b'{"question": "' + b"a" * 20000 + b'"}', content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]


def test_health_reports_counts(client):
    data = client.get("/api/health").get_json()
    assert data["status"] == "ok"
    assert (data["articles"], data["faq_pairs"]) == (4, 2)
    assert data["passages"] > data["faq_pairs"]
    assert data["built_at"].startswith("20")


def test_no_index_is_a_503_with_a_sentence(make_app, tmp_path):
    client = make_app(index_dir=str(tmp_path / "none")).test_client()
    response = client.post("/api/ask", json={"question": "refund"})
    assert response.status_code == 503
    assert "faqbot index" in response.get_json()["error"]


def test_home_page_has_a_question_box(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"<input" in response.data or b"widget.js" in response.data
