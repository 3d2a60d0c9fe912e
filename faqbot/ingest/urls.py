"""The one URL check every reader and the crawler use: http(s) URLs and site-relative paths only.

An article's URL becomes a passage's `url` and `link`, which API consumers put in `href`s: a
`javascript:`, `data:` or `vbscript:` URL from front matter or a page would run in their page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SAFE_SCHEMES = ("http", "https")


def checked_url(url: str | None, relative: bool = True) -> str | None:
    """url without surrounding space if it is an absolute http(s) URL (or, when relative is true, a
    path starting with a single '/'); None for anything else: other schemes, `//host` references,
    spaces, control characters or backslashes inside (browsers drop or rewrite those)."""
    url = (url or "").strip()
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme:
        return url if parts.scheme in SAFE_SCHEMES and parts.hostname else None
    return url if relative and url.startswith("/") and not url.startswith("//") else None


def refused_note(field: str, url: str, relative: bool = True) -> str:
    """The sentence inspect shows for a URL the check refused."""
    shown = url.strip() if len(url.strip()) <= 60 else url.strip()[:57] + "..."
    allowed = "an http(s) URL or a site-relative path" if relative else "an absolute http(s) URL"
    return f"{field} {shown!r} not used: not {allowed}"
