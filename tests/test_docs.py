"""The README is a short front door and every link in it and in docs/ leads somewhere (issue 21)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
README_MAX_BYTES = 16_000
# Repository paths the docs may name in backticks; a renamed module must be renamed in the docs too.
REPO_PATH = re.compile(r"^(?:faqbot|benchmarks|scripts|tests|web|corpus|\.ci)/[\w./-]*$")

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_TARGET = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)=["']([^"']+)["']""", re.IGNORECASE)
_HTML_ANCHOR = re.compile(r"""<a\b[^>]*?\b(?:id|name)=["']([^"']+)["']""", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def doc_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [README, *sorted((REPO / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if match and (fence is None or match.group(1) == fence):
            fence = None if fence else match.group(1)
            continue
        if fence is None:
            lines.append((number, line))
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lowercased, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading counts as its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = text.strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every #anchor a Markdown file defines: heading slugs (numbered when repeated) and <a id>/<a name>."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        heading = _HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
        found.update(_HTML_ANCHOR.findall(line))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown or HTML link and image outside code."""
    found = []
    for number, line in prose_lines(text):
        line = _CODE_SPAN.sub("", line)
        found += [(number, target) for target in _LINK.findall(line) + _HTML_TARGET.findall(line)]
    return found


def broken_links(path: Path) -> list[str]:
    """Relative links in a Markdown file whose file is missing or whose #anchor matches no heading."""
    problems = []
    for number, target in links(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
            continue  # http(s), mailto: outside this repository
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(REPO)}:{number}: {target}"
        if not linked.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
            problems.append(f"{where} (no heading with that anchor in {linked.relative_to(REPO)})")
    return problems


def missing_paths(path: Path) -> list[str]:
    """Repository paths named in backticks in a Markdown file (`faqbot/x.py`) that do not exist."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for span in _CODE_SPAN.findall(line):
            for word in span[1].split():
                word = word.rstrip(",;:)")
                if REPO_PATH.match(word) and "<" not in word and not (REPO / word).exists():
                    problems.append(f"{path.relative_to(REPO)}:{number}: {word}")
    return problems


def two_commands() -> list[str]:
    """The commands of the README's "Two commands" block, without their comments."""
    section = README.read_text(encoding="utf-8").split("## Two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_readme_is_a_short_front_door():
    size = len(README.read_bytes())
    assert size < README_MAX_BYTES, f"README.md is {size:,} bytes; move detail to docs/ (limit {README_MAX_BYTES:,})"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_repository_path_named_exists(path):
    assert missing_paths(path) == []


def test_the_two_commands_are_scripts_that_exist_and_ci_runs_the_test_one():
    commands = two_commands()
    assert commands == ["./scripts/serve", "./scripts/test"]
    for command in commands:
        script = REPO / shlex.split(command)[0]
        assert script.is_file() and script.stat().st_mode & 0o111, f"{command} is not an executable script"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./scripts/test$", ci, re.MULTILINE), ".ci/run must run the README's test command"


def test_readme_links_the_docs_that_hold_the_detail():
    text = README.read_text(encoding="utf-8")
    for name in ("performance", "quality", "semantic", "deploy", "languages", "architecture"):
        assert f"(docs/{name}.md" in text, f"README does not link docs/{name}.md"


@pytest.mark.parametrize("heading, slug", [
    ("Support CLI and reports", "support-cli-and-reports"),
    ("What `faqbot serve` does", "what-faqbot-serve-does"),
    ("Analysis per language (`faqbot/text/languages.py`, `faqbot/text/analyze.py`)",
     "analysis-per-language-faqbottextlanguagespy-faqbottextanalyzepy"),
    ("Why psycopg under our own thin layer, not SQLAlchemy Core",
     "why-psycopg-under-our-own-thin-layer-not-sqlalchemy-core"),
    ("Hit@1 – über alles", "hit1--über-alles"),
])
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_a_broken_link_or_anchor_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## Two words\n\n## Two words\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n[ok](docs/other.md#two-words-1) [ok](#title) [web](https://example.com/x#y)\n"
        "[gone](docs/missing.md) [bad anchor](docs/other.md#three-words) [self](#nope)\n"
        "```\n[in code](docs/missing.md)\n```\n`[in a span](docs/missing.md)` `faqbot/gone.py`\n")
    assert broken_links(page) == [
        "README.md:4: docs/missing.md (no such file)",
        "README.md:4: docs/other.md#three-words (no heading with that anchor in docs/other.md)",
        "README.md:4: #nope (no heading with that anchor in README.md)",
    ]
    assert missing_paths(page) == ["README.md:8: faqbot/gone.py"]
