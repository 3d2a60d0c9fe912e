"""Settings: one table, one load order (defaults -> faqbot.toml -> FAQBOT_* environment -> flags)."""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .errors import FaqbotError


def setting(default: Any, help: str, *, low: float | None = None, high: float | None = None,
            flag_means: int | None = None, secret_chars: int | None = None, tag: bool = False) -> Any:
    """One row of the settings table: default, help sentence and allowed range (inclusive).

    flag_means: for an integer setting, the number `true` stands for (trust_proxy = true is 1 hop).
    secret_chars: a secret string, empty (off) or at least this many characters after stripping
    spaces; errors never show its value. tag: a BCP 47 language tag (or empty).
    """
    return field(default=default, metadata={"help": help, "low": low, "high": high, "flag_means": flag_means,
                                            "secret_chars": secret_chars, "tag": tag})


@dataclass(frozen=True)
class Settings:
    """Every setting faqbot reads: THE table (name, type, default, range, help); see SETTINGS."""

    index_dir: str = setting(".faqbot/index", "where `faqbot index` writes and the API reads (`--index`)")
    sources: tuple[str, ...] = setting(("corpus",), "what `faqbot index` reads when given no PATH "
                                                   "(comma-separated in the environment)")
    base_url: str = setting("/articles/", "URL prefix for articles that don't state their own URL")
    url_style: str = setting("file", "URLs of HTML files read from a folder: `file` (`guide.html`) or `pretty` "
                                     "(`guide`); see [Documentation sites](#documentation-sites)")
    lang: str = setting("", "language of articles that declare none and whose text the detector is unsure of; "
                            "empty = English", tag=True)
    min_confidence: float = setting(0.35, "below this confidence there is no answer, only suggestions "
                                          "(chosen on the dev set, see Quality)", low=0, high=1)
    top_k: int = setting(5, "results returned when a request doesn't say", low=1, high=50)
    host: str = setting("127.0.0.1", "address `faqbot serve` listens on")
    port: int = setting(8000, "port `faqbot serve` listens on", low=1, high=65535)
    workers: int = setting(2, "server processes for `faqbot serve` (one per core)", low=1, high=256)
    allowed_origins: tuple[str, ...] = setting((), "extra origins allowed to call `/api/*` from a browser "
                                                   "(same origin and localhost always are)")
    semantic: bool = setting(True, "rank with sentence embeddings too (`FAQBOT_SEMANTIC=0` turns it off)")
    multilingual_semantic: bool = setting(True, "rank ar, de, es, hi, ro, ru questions with the multilingual "
                                               "model too (slow to index: a few passages/s)")
    semantic_weight: float = setting(0.9, "share of cosine similarity in the ranking mix", low=0, high=1)
    rerank_depth: int = setting(30, "BM25 candidates, and as many nearest by embedding, ranked per question",
                                low=1, high=1000)
    min_cosine: float = setting(0.2, "with semantic reranking, no answer when the best passage's cosine "
                                     "similarity is below this", low=-1, high=1)
    semantic_min_confidence: float = setting(0.55, "with semantic reranking, no answer below this confidence "
                                                   "either (its model is fitted apart, see Quality)", low=0, high=1)
    sitemaps: tuple[str, ...] = setting((), "sitemap URLs that `faqbot index` and the admin re-index crawl "
                                            "(sitemap indexes and .gz too)")
    url_lists: tuple[str, ...] = setting((), "files of page URLs, one a line, that `faqbot index` fetches")
    allowed_hosts: tuple[str, ...] = setting((), "hosts a crawl may fetch besides each sitemap's own")
    crawl_concurrency: int = setting(4, "pages fetched at once", low=1, high=64)
    crawl_timeout: float = setting(10.0, "seconds per page request", low=0.1, high=600)
    crawl_max_page_bytes: int = setting(5_000_000, "larger pages fail (and keep their previous passages)",
                                        low=1024, high=1_000_000_000)
    admin_token: str = setting("", "enables the admin endpoints (`/admin/report`, `/api/reindex`); send "
                                   "`Authorization: Bearer <token>`; make one with `openssl rand -hex 32`",
                               secret_chars=16)
    log_questions: bool = setting(True, "keep a question log (time, question, answered, passage, score, "
                                        "feedback; no IP addresses)")
    question_log: str = setting("", "the question log (and re-index job status): a SQLite file, or a "
                                    "`postgresql://user:pass@host:5432/db` URL that replicas share; "
                                    "empty = questions.sqlite beside the index")
    log_retention_days: float = setting(90.0, "older question log rows are deleted", low=0, high=36500)
    rate_limit: int = setting(60, "`POST /api/ask` and `/api/feedback` requests a minute per client; 0 = off",
                              low=0, high=1_000_000)
    rate_limit_storage: str = setting("", "where the rate limit counts: empty = a SQLite file beside the index "
                                          "(one machine); `redis://host:6379/0` shares one count per client "
                                          "across replicas")
    trust_proxy: int = setting(0, "reverse proxies in front of faqbot: the client is that many "
                                  "`X-Forwarded-For` hops from the right (`true` = 1); 0 = no proxy, "
                                  "headers ignored", low=0, high=10, flag_means=1)

    @property
    def question_log_path(self) -> str:
        """Where the question log lives."""
        from pathlib import Path

        return self.question_log or str(Path(self.index_dir).resolve().parent / "questions.sqlite")


CONFIG_FILE_ENV = "FAQBOT_CONFIG"
DEFAULT_CONFIG_FILE = "faqbot.toml"
ENV_PREFIX = "FAQBOT_"
# FAQBOT_* variables that are not settings: the config file's name and click's shell completion.
OTHER_ENV = frozenset({CONFIG_FILE_ENV, "FAQBOT_COMPLETE", "_FAQBOT_COMPLETE"})
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")  # BCP 47, loosely: "de", "pt-BR", "zh-Hant"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
log = logging.getLogger("faqbot")


@dataclass(frozen=True)
class SettingSpec:
    """A row of the settings table, as the CLI help, the README and the checks read it."""

    name: str
    type: str  # "str", "int", "float", "bool" or "list"
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    flag_means: int | None = None
    secret_chars: int | None = None
    tag: bool = False

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return ENV_PREFIX + self.name.upper()

    def describe(self) -> str:
        """What values it takes, in words: "an integer from 1 to 65535"."""
        kind = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
                "list": "a list of strings (comma-separated in the environment)"}[self.type]
        if self.low is not None and self.high is not None:
            kind += f" from {_number(self.low)} to {_number(self.high)}"
        if self.flag_means is not None:
            kind += f" (or true for {self.flag_means}, false for 0)"
        if self.secret_chars is not None:
            kind = f"empty (off) or {kind} of at least {self.secret_chars} characters (spaces around it do not count)"
        if self.tag:
            kind = "empty or a BCP 47 language tag such as \"de\" or \"pt-BR\""
        return kind


_TYPES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "tuple[str, ...]": "list"}
SETTINGS: tuple[SettingSpec, ...] = tuple(
    SettingSpec(f.name, _TYPES[str(f.type)], f.default, **f.metadata) for f in fields(Settings))
BY_NAME = {spec.name: spec for spec in SETTINGS}


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bool(text: str) -> bool | None:
    word = text.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


def parse_value(spec: SettingSpec, value: Any, where: str) -> Any:
    """Check one value against its row (type, range); raise FaqbotError naming the setting and where it came from."""
    def refuse() -> FaqbotError:
        return FaqbotError(f"Setting {spec.name!r} ({where}) must be {spec.describe()}, not {value!r}.")

    if spec.type == "bool":
        parsed = _bool(value) if isinstance(value, str) else value
        if not isinstance(parsed, bool):
            raise refuse()
        return parsed
    if spec.type == "list":
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise refuse()
    if spec.type == "str":
        if not isinstance(value, str):
            raise refuse()
        if spec.secret_chars is not None:
            secret = value.strip()
            if value and len(secret) < spec.secret_chars:
                raise FaqbotError(f"Setting {spec.name!r} ({where}) must be {spec.describe()}; "
                                  f"the value given has {len(secret)} characters.")
            return secret
        if spec.tag:
            value = value.strip()
            if value and not LANGUAGE_TAG.fullmatch(value):
                raise refuse()
        return value
    number: Any = value
    if spec.flag_means is not None:
        flag = _bool(value) if isinstance(value, str) and not value.strip().isdecimal() else value
        if isinstance(flag, bool):
            return spec.flag_means if flag else 0
    if isinstance(value, bool):
        raise refuse()
    try:
        if isinstance(value, str):
            number = int(value.strip()) if spec.type == "int" else float(value.strip())
        elif spec.type == "int" and isinstance(value, float) and value.is_integer():
            number = int(value)
        elif spec.type == "float" and isinstance(value, (int, float)):
            number = float(value)
    except ValueError:
        raise refuse() from None
    if not isinstance(number, int if spec.type == "int" else float) or isinstance(number, bool):
        raise refuse()
    if not math.isfinite(number) or (spec.low is not None and number < spec.low) or (
            spec.high is not None and number > spec.high):
        raise refuse()
    return number


def closest_setting(name: str) -> str | None:
    """The setting a mistyped name most likely meant (difflib), or None."""
    close = difflib.get_close_matches(name.lower(), BY_NAME, n=1, cutoff=0.6)
    return close[0] if close else None


def _hint(name: str) -> str:
    close = closest_setting(name)
    return f" Did you mean {close!r}?" if close else " See the Configuration table in the README."


def unknown_setting(name: str, where: str) -> FaqbotError:
    """The error for a name that is not a setting, with the closest valid name for a typo."""
    return FaqbotError(f"{name!r} ({where}) is not a faqbot setting.{_hint(name)}")


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise FaqbotError(f"Cannot read the config file {path}: {err}") from None
    outside = [key for key in data if key != "faqbot"]
    if outside:
        raise FaqbotError(f"The config file {path} has {', '.join(map(repr, outside))} outside the [faqbot] "
                          f"table; faqbot reads settings only from under [faqbot].")
    table = data.get("faqbot", {})
    if not isinstance(table, dict):
        raise FaqbotError(f"The config file {path}: 'faqbot' must be a table ([faqbot]).")
    return table


def _env_layer(environ: Mapping[str, str]) -> dict[str, str]:
    """FAQBOT_<NAME> variables by setting name; an unknown one is a warning (it may be meant for another tool)."""
    layer = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in OTHER_ENV:
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name in BY_NAME:
            layer[name] = value
        else:
            log.warning("Warning: the environment variable %s is not a faqbot setting and is ignored.%s",
                        key, _hint(name))
    return layer


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Build Settings from defaults, the config file, FAQBOT_* variables, then overrides (None = unset).

    Every value is checked against the table (FaqbotError naming the setting on a bad one).
    """
    environ = os.environ if environ is None else environ
    path = Path(config_file or environ.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if path.exists():
        layers.append((f"in {path}", _read_config_file(path)))
    elif config_file or environ.get(CONFIG_FILE_ENV):
        raise FaqbotError(f"Config file {path} does not exist.")
    layers.append(("", _env_layer(environ)))
    layers.append(("given to faqbot", {k: v for k, v in (overrides or {}).items() if v is not None}))
    values: dict[str, Any] = {}
    for where, layer in layers:
        for name, value in layer.items():
            spec = BY_NAME.get(name)
            if spec is None:
                raise unknown_setting(name, where)
            values[name] = parse_value(spec, value, where or spec.env)
    return Settings(**values)


def markdown_table() -> str:
    """The README's Configuration table, written from SETTINGS."""
    rows = ["| setting | environment | default | allowed | meaning |", "|---|---|---|---|---|"]
    for spec in SETTINGS:
        default = spec.default
        shown = ("(none)" if default in ("", ()) else
                 "`" + (str(default).lower() if isinstance(default, bool) else
                        "[" + ", ".join(f'"{v}"' for v in default) + "]" if isinstance(default, tuple) else
                        _number(default)) + "`")
        allowed = spec.describe().replace(" (comma-separated in the environment)", "")
        rows.append(f"| `{spec.name}` | `{spec.env}` | {shown} | {allowed} | {spec.help} |")
    return "\n".join(rows) + "\n"


README_START, README_END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def default(name: str) -> Any:
    """A setting's default, from the table (the code's constants and the CLI help read it here)."""
    return BY_NAME[name].default


def default_help(name: str) -> str:
    """A setting's default as CLI help shows it: "[default: 5]"."""
    value = default(name)
    shown = ", ".join(value) if isinstance(value, tuple) else str(value).lower() if isinstance(value, bool) else value
    return f"[default: {_number(shown) if isinstance(shown, float) else shown}]"


def readme_table(readme: str) -> str:
    """The block of README text between the settings-table markers (what markdown_table() writes)."""
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[start:end].strip("\n") + "\n"


def write_readme_table(path: str | Path) -> None:
    """Rewrite the README's configuration table from the settings table."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    path.write_text(text[:start] + "\n" + markdown_table() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":  # python -m faqbot.config --markdown | --write-readme README.md
    import sys

    if sys.argv[1:2] == ["--markdown"]:
        print(markdown_table(), end="")
    elif sys.argv[1:2] == ["--write-readme"] and len(sys.argv) == 3:
        write_readme_table(sys.argv[2])
    else:
        sys.exit("usage: python -m faqbot.config --markdown | --write-readme README.md")
