"""The faqbot command: output, --json equal to the API, exit codes and one-line errors."""

import json

from faqbot.cli import cli


def test_index_prints_counts_and_skipped_files(runner, corpus_dir, tmp_path):
    (corpus_dir / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    result = runner.invoke(cli, ["index", str(corpus_dir), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 4 articles: 2 FAQ pairs, ")
    assert f"{corpus_dir / 'broken.txt'}: binary file" in result.output


def test_index_with_nothing_readable_fails_without_traceback(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(cli, ["index", str(tmp_path / "empty"), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Nothing to index in ")
    assert "Traceback" not in result.output


def test_ask_prints_answer_source_and_link(runner, index_dir):
    result = runner.invoke(cli, ["ask", "how long does a refund take", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert "Refunds reach your card within five working days." in result.output
    assert "Source: Refunds and returns > Frequently Asked Questions" in result.output
    assert "Link:   /articles/refunds#:~:text=How%20long%20does%20a%20refund%20take%3F" in result.output


def test_ask_json_is_exactly_the_api_response(runner, index_dir, client):
    result = runner.invoke(cli, ["ask", "reset my password", "--json", "--top", "3", "--index", str(index_dir)])
    assert result.exit_code == 0
    cli_data = json.loads(result.output)
    api_data = client.post("/api/ask", json={"question": "reset my password", "top_k": 3}).get_json()
    cli_data.pop("took_ms"), api_data.pop("took_ms")
    assert cli_data == api_data


def test_ask_errors_exit_nonzero_with_one_line(runner, index_dir, tmp_path):
    result = runner.invoke(cli, ["ask", "   ", "--index", str(index_dir)])
    assert (result.exit_code, result.output) == (1, "Error: The question is empty.\n")
    result = runner.invoke(cli, ["ask", "refund", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output == f"Error: No index in {tmp_path / 'none'}. Run `faqbot index` first.\n"
    result = runner.invoke(cli, ["ask", "refund", "--top", "99", "--index", str(index_dir)])
    assert result.exit_code == 2


def test_ask_without_confident_answer(runner, index_dir):
    result = runner.invoke(cli, ["ask", "quantum chromodynamics", "--index", str(index_dir)])
    assert result.exit_code == 0
    assert result.output.startswith("No confident answer.")


def test_inspect_json_lists_articles_with_passages(runner, corpus_dir):
    result = runner.invoke(cli, ["inspect", str(corpus_dir / "refunds.md"), "--json"])
    assert result.exit_code == 0
    (article,) = json.loads(result.output)
    assert set(article) == {"title", "url", "lang", "lang_source", "passages"}  # lang_source: additive (issue 18)
    assert article["url"] == "/articles/refunds"
    assert [p["question"] for p in article["passages"] if p["kind"] == "faq"] == [
        "Can I get a refund after 30 days?", "How long does a refund take?"]
    assert all("score" not in p for p in article["passages"])


def test_inspect_human_output_shows_sections(runner, corpus_dir):
    result = runner.invoke(cli, ["inspect", str(corpus_dir / "refunds.md")])
    assert result.exit_code == 0
    assert "sections: How refunds work | Frequently Asked Questions" in result.output
    assert "Q: How long does a refund take?" in result.output


def test_help_has_examples(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("index", "ask", "serve", "inspect"):
        assert command in result.output
        sub = runner.invoke(cli, [command, "--help"])
        assert sub.exit_code == 0 and "Example" in sub.output
