"""Files and folders -> Articles: find sources, decode them safely, pick the reader by extension."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from ..errors import FaqbotError, SkipFile
from ..model import Article
from .read_markdown import read_markdown
from .read_text import read_text

MAX_FILE_BYTES = 10 * 1024 * 1024
EXTENSIONS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
DEFAULT_BASE_URL = "/articles/"
URL_STYLES = ("file", "pretty")  # how a static server names an HTML file: "guide.html" or "guide"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """One file to read: its path, the folder it was found under, its article id and its URL under base_url."""

    path: Path
    root: Path
    article_id: str
    url_path: str | None = None  # None: the article id


@dataclass(frozen=True)
class Skipped:
    """A source left out of the index, with the reason shown to the user."""

    path: str
    reason: str


def slugify(text: str) -> str:
    """Lowercase ASCII slug: 'Guides/Getting Started.md' -> 'guides-getting-started'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "article"


def find_sources(paths: list[str | Path], url_style: str = "file") -> tuple[list[Source], list[Skipped]]:
    """List readable article files under paths (recursive), never following a link out of them.

    Each HTML file gets the URL path a static server gives it (see site_path); no two sources share one.
    """
    if url_style not in URL_STYLES:
        raise FaqbotError(f"url_style must be one of {', '.join(URL_STYLES)}, not {url_style!r}.")
    sources: list[Source] = []
    skipped: list[Skipped] = []
    seen_ids: set[str] = set()
    taken_urls: set[str] = set()
    for given in paths:
        given = Path(given)
        if not given.exists():
            skipped.append(Skipped(str(given), "no such file or folder"))
            continue
        root = given if given.is_dir() else given.parent
        for path in _walk(given, skipped):
            relative = path.relative_to(root).with_suffix("")
            article_id = slugify(str(relative))
            if article_id in seen_ids:
                article_id = slugify(str(path.relative_to(root)))
            seen_ids.add(article_id)
            url_path = _unique_url_path(path.relative_to(root), article_id, url_style, taken_urls)
            sources.append(Source(path, root, article_id, url_path))
    return sources, skipped


def site_path(relative: Path, url_style: str = "file") -> str:
    """The URL path of an HTML file as a static server serves it, relative to the site root.

    'ref/models/fields.html' -> 'ref/models/fields.html' ("file") or 'ref/models/fields' ("pretty");
    a folder's index page 'ref/index.html' -> 'ref/' in both styles (the root's -> '').
    """
    if relative.stem.lower() == "index":
        folder = relative.parent.as_posix()
        path = "" if folder == "." else folder + "/"
    else:
        path = (relative.with_suffix("") if url_style == "pretty" else relative).as_posix()
    return quote(path)


def _unique_url_path(relative: Path, article_id: str, url_style: str, taken: set[str]) -> str:
    """The source's URL path under base_url; a file whose URL is taken by an earlier one gets a longer form."""
    candidates = [article_id]  # Markdown and text: the clean slug URL, as before
    if EXTENSIONS[relative.suffix.lower()] == "html":
        candidates = [site_path(relative, url_style), quote(relative.as_posix()), article_id]
    # Two roots can hold the same relative path ("docs/index.html", "blog/index.html"): number the rest.
    candidates += [f"{article_id}-{n}" for n in range(2, len(taken) + 3)]
    chosen = next(c for c in candidates if c not in taken)
    taken.add(chosen)
    return chosen


def _walk(given: Path, skipped: list[Skipped]) -> Iterator[Path]:
    if not given.is_dir():
        if given.suffix.lower() not in EXTENSIONS:
            skipped.append(Skipped(str(given), f"unsupported file type {given.suffix or '(none)'}"))
        elif problem := _not_regular(given):
            skipped.append(Skipped(str(given), problem))
        else:
            yield given
        return
    real_root = given.resolve()
    for folder, dirs, files in os.walk(given, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
                continue
            if name.lower().startswith("readme."):
                continue  # a folder's README describes the folder; it is not an article
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                skipped.append(Skipped(str(path), "link points outside the source folder"))
                continue
            if problem := _not_regular(path):
                skipped.append(Skipped(str(path), problem))
                continue
            yield path


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder"))


def _not_regular(path: str | Path, mode: int | None = None) -> str | None:
    """Why path is not a regular file we may open (reading a pipe or a device could block forever)."""
    if mode is None:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return None  # the reader reports why it cannot be read
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _NOT_REGULAR if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def read_file_bytes(path: str | Path) -> bytes:
    """The bytes of one regular file (at most MAX_FILE_BYTES + 1); SkipFile with the reason otherwise.

    Checked before opening (a device is never opened), opened without blocking and checked again on
    the open file, so a file swapped for a pipe in between cannot hang the reader.
    """
    if problem := _not_regular(path):
        raise SkipFile(problem)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise SkipFile(f"cannot read: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if problem := _not_regular(path, info.st_mode):
            raise SkipFile(problem)
        if info.st_size > MAX_FILE_BYTES:
            raise SkipFile(f"too large ({info.st_size / 1e6:.1f} MB > 10 MB)")
        try:
            return f.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise SkipFile(f"cannot read: {err.strerror or err}") from None


def decode(data: bytes, kind: str) -> str:
    """Bytes -> text: UTF-8 (BOM allowed), UTF-16 with a BOM, or an HTML page's declared charset."""
    if not data.strip():
        raise SkipFile("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SkipFile("cannot decode: invalid UTF-16") from None
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        declared = _META_CHARSET.search(data[:4096]) if kind == "html" else None
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise SkipFile(f"cannot decode: not UTF-8 (byte {err.start})") from None


def read_source(source: Source, base_url: str = DEFAULT_BASE_URL, default_lang: str = "") -> Article:
    """Read one source file into an Article with its URL filled in; raise SkipFile with the reason."""
    data = read_file_bytes(source.path)
    kind = EXTENSIONS[source.path.suffix.lower()]
    return parse_document(data, kind, str(source.path), source.article_id, base_url, source.url_path, default_lang)


def with_language(article: Article, default_lang: str = "") -> Article:
    """The article with its language decided: declared, else detected from its text, else default_lang.

    lang_source says which ("declared", "detected", "default"); lang None means English.
    """
    if article.lang:
        return replace(article, lang_source="declared")
    from ..text.detect import article_language

    lang, lang_source = article_language(" ".join(b.question or b.text for b in article.blocks[:50]), default_lang or None)
    return replace(article, lang=lang, lang_source=lang_source)


def parse_document(
    data: bytes, kind: str, source: str, article_id: str, base_url: str, url_path: str | None = None,
    default_lang: str = "",
) -> Article:
    """Decode and parse one document of a known kind ("text", "markdown", "html").

    Without a URL of its own, the article gets base_url + url_path (else + article_id); without
    a declared language, the detected one, else default_lang (see with_language).
    """
    text = decode(data, kind)
    if kind == "html":
        from .read_html import read_html  # lxml is only loaded when there is HTML to read

        article = read_html(text, source)
    elif kind == "markdown":
        article = read_markdown(text, source)
    else:
        article = read_text(text, source)
    url = article.url or base_url.rstrip("/") + "/" + (article_id if url_path is None else url_path)
    title = article.title or article_id.replace("-", " ").capitalize()
    return with_language(replace(article, url=url, title=title), default_lang)
