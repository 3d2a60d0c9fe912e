"""Reading sources: formats, URLs, and the reasons a file is skipped."""

import pytest

from faqbot.errors import SkipFile
from faqbot.index.pipeline import load_articles
from faqbot.ingest.read import MAX_FILE_BYTES, decode, find_sources, slugify
from faqbot.ingest.read_markdown import read_markdown
from faqbot.ingest.read_text import read_text


def test_text_title_headings_items_and_furniture():
    article = read_text(
        "\n\nMy Title\nComments\nFirst Section\nA paragraph that says something useful about the topic.\n"
        "- Label: item text\nTechnology\nRelated Articles\nSomething else entirely\n"
    )
    assert article.title == "My Title"
    assert [(b.kind, b.text) for b in article.blocks] == [
        ("heading", "First Section"),
        ("paragraph", "A paragraph that says something useful about the topic."),
        ("item", "Label: item text"),
    ]


def test_markdown_front_matter_headings_lists_and_anchor():
    article = read_markdown(
        "---\ntitle: \"Front title\"\nurl: https://example.com/a\nlang: de\n---\n# Body title\n\n"
        "Intro with **bold** and [a link](https://x.org).\n\n## Setup {#setup}\n\n- one\n- two\n"
    )
    assert (article.title, article.url, article.lang) == ("Front title", "https://example.com/a", "de")
    assert [(b.kind, b.text, b.anchor) for b in article.blocks] == [
        ("paragraph", "Intro with bold and a link.", None),
        ("heading", "Setup", "setup"),
        ("item", "one", None),
        ("item", "two", None),
    ]


def test_markdown_source_line_gives_the_url():
    article = read_markdown("# T\nSource: https://example.org/page\n\nText of the article goes here.\n")
    assert article.url == "https://example.org/page"
    assert [b.text for b in article.blocks] == ["Text of the article goes here."]


def test_markdown_fenced_code_is_not_text():
    article = read_markdown("# T\n\nBefore the code block.\n\n```\nsecret_code()\n```\n\nAfter it.\n")
    assert "secret_code" not in " ".join(b.text for b in article.blocks)


def test_url_defaults_to_base_url_plus_slug(tmp_path):
    folder = tmp_path / "site"
    (folder / "Guides").mkdir(parents=True)
    (folder / "Guides" / "Getting Started.md").write_text("# Hello\n\nSome words about starting out.\n")
    articles, skipped = load_articles([folder], base_url="https://example.com/kb/")
    assert skipped == []
    assert [(aid, a.url) for aid, a in articles] == [
        ("guides-getting-started", "https://example.com/kb/guides-getting-started")
    ]


def test_slugify():
    assert slugify("Guides/Ça va, Ünïcode!") == "guides-ca-va-unicode"


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"   \n\t\n", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    (b"caf\xe9 au lait " * 3, "cannot decode: not UTF-8"),
])
def test_unreadable_files_are_skipped_with_their_reason(tmp_path, content, reason):
    (tmp_path / "bad.txt").write_bytes(content)
    (tmp_path / "good.txt").write_text("Good\nA paragraph with enough words to be indexed here.\n")
    articles, skipped = load_articles([tmp_path])
    assert [aid for aid, _ in articles] == ["good"]
    assert len(skipped) == 1 and skipped[0].path.endswith("bad.txt")
    assert skipped[0].reason.startswith(reason)


def test_too_large_and_nothing_extractable_are_skipped(tmp_path):
    (tmp_path / "big.md").write_bytes(b"# Big\n\n" + b"word " * (MAX_FILE_BYTES // 5 + 10))
    (tmp_path / "title-only.md").write_text("# Only a title\n")
    (tmp_path / "ok.md").write_text("# Fine\n\nThis one has a real paragraph of text.\n")
    articles, skipped = load_articles([tmp_path])
    assert [aid for aid, _ in articles] == ["ok"]
    reasons = {s.path.rsplit("/", 1)[1]: s.reason for s in skipped}
    assert reasons["big.md"].startswith("too large")
    assert reasons["title-only.md"] == "no extractable text"


def test_missing_path_and_unsupported_file_are_reported(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    _, skipped = find_sources([tmp_path / "nope", tmp_path / "notes.pdf"])
    assert [s.reason for s in skipped] == ["no such file or folder", "unsupported file type .pdf"]


def test_links_out_of_the_folder_are_not_followed(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("# Secret\n\nThis must never be indexed by faqbot.\n")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "leak.md").symlink_to(outside)
    (folder / "real.md").write_text("# Real\n\nA real article paragraph lives here.\n")
    articles, skipped = load_articles([folder])
    assert [aid for aid, _ in articles] == ["real"]
    assert skipped[0].reason == "link points outside the source folder"


def test_decode_accepts_bom_and_utf16():
    assert decode("\ufeffhello".encode("utf-8"), "text") == "hello"
    assert decode("hello".encode("utf-16"), "text") == "hello"
    with pytest.raises(SkipFile):
        decode(b"\xff\xfe\x00", "text")


def _faqbot(*args, cwd, timeout=120):
    import os
    import subprocess
    import sys

    env = {**os.environ, "FAQBOT_SEMANTIC": "0"}
    return subprocess.run([sys.executable, "-m", "faqbot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_a_named_pipe_in_the_source_folder_is_skipped_not_read(tmp_path):
    """A FIFO named like an article used to block `faqbot index` forever on open()."""
    import os

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "real.md").write_text("# Real\n\nA real article paragraph lives here, long enough to index.\n")
    os.mkfifo(folder / "pipe.md")
    os.mkfifo(tmp_path / "given.md")
    result = _faqbot("index", str(folder), str(tmp_path / "given.md"), "--index", str(tmp_path / "ix"),
                     cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"  {folder / 'pipe.md'}: not a regular file (a named pipe)\n" in result.stdout
    assert f"  {tmp_path / 'given.md'}: not a regular file (a named pipe)\n" in result.stdout
    assert result.stdout.startswith("Indexed 1 article")

    inspected = _faqbot("inspect", str(folder), cwd=tmp_path, timeout=60)
    assert f"Skipped {folder / 'pipe.md'}: not a regular file (a named pipe)" in inspected.stderr


def test_read_file_bytes_refuses_what_is_not_a_regular_file(tmp_path):
    import os

    from faqbot.ingest.read import read_file_bytes

    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(SkipFile, match=r"^not a regular file \(a named pipe\)$"):
        read_file_bytes(tmp_path / "pipe.md")
    with pytest.raises(SkipFile, match=r"^not a regular file \(a device\)$"):
        read_file_bytes("/dev/zero")
    (tmp_path / "ok.md").write_bytes(b"# ok")
    assert read_file_bytes(tmp_path / "ok.md") == b"# ok"
