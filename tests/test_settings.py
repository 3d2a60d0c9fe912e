"""Issue 17, finding 8: every setting is checked against one table; typos and bad values are errors that name them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from faqbot.config import Settings, load_settings
from faqbot.errors import FaqbotError

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("env, message", [
    ({"FAQBOT_SEMANTIC": "ture"}, "Setting 'semantic' (FAQBOT_SEMANTIC) must be true or false, not 'ture'."),
    ({"FAQBOT_WORKERS": "-3"}, "Setting 'workers' (FAQBOT_WORKERS) must be an integer from 1 to 256, not '-3'."),
    ({"FAQBOT_PORT": "99999"}, "Setting 'port' (FAQBOT_PORT) must be an integer from 1 to 65535, not '99999'."),
    ({"FAQBOT_MIN_CONFIDENCE": "nan"},
     "Setting 'min_confidence' (FAQBOT_MIN_CONFIDENCE) must be a number from 0 to 1, not 'nan'."),
    ({"FAQBOT_CRAWL_TIMEOUT": "inf"},
     "Setting 'crawl_timeout' (FAQBOT_CRAWL_TIMEOUT) must be a number from 0.1 to 600, not 'inf'."),
    ({"FAQBOT_TOP_K": "3.5"}, "Setting 'top_k' (FAQBOT_TOP_K) must be an integer from 1 to 50, not '3.5'."),
    ({"FAQBOT_TRUST_PROXY": "maybe"},
     "Setting 'trust_proxy' (FAQBOT_TRUST_PROXY) must be an integer from 0 to 10 (or true for 1, false for 0), not 'maybe'."),
])
def test_invalid_environment_values_are_errors_naming_the_setting(env, message):
    with pytest.raises(FaqbotError) as err:
        load_settings(environ=env)
    assert str(err.value) == message


@pytest.mark.parametrize("text, message", [
    ("[faqbot]\nrate_limt = 10\n",
     "'rate_limt' (in faqbot.toml) is not a faqbot setting. Did you mean 'rate_limit'?"),
    ("[faqbot]\nworkers = -3\n", "Setting 'workers' (in faqbot.toml) must be an integer from 1 to 256, not -3."),
    ("[faqbot]\nport = 99999\n", "Setting 'port' (in faqbot.toml) must be an integer from 1 to 65535, not 99999."),
    ("[faqbot]\nmin_confidence = nan\n",
     "Setting 'min_confidence' (in faqbot.toml) must be a number from 0 to 1, not nan."),
    ("[faqbot]\nsemantic = \"ture\"\n", "Setting 'semantic' (in faqbot.toml) must be true or false, not 'ture'."),
    ("[faqbot]\nsemantic = 1\n", "Setting 'semantic' (in faqbot.toml) must be true or false, not 1."),
    ("[faqbot]\nsources = \"a\"\nbase_url = 3\n", "Setting 'base_url' (in faqbot.toml) must be a string, not 3."),
    ("rate_limit = 10\n[faqbot]\ntop_k = 3\n", "The config file faqbot.toml has 'rate_limit' outside the [faqbot] "
                                              "table; faqbot reads settings only from under [faqbot]."),
    ("[faqbot]\ntop_k = 3\n[server]\nport = 1\n", "The config file faqbot.toml has 'server' outside the [faqbot] "
                                                 "table; faqbot reads settings only from under [faqbot]."),
    ("[faqbot]\nxyzzy = 1\n", "'xyzzy' (in faqbot.toml) is not a faqbot setting. "
                              "See the Configuration table in the README."),
])
def test_config_file_mistakes_are_errors(tmp_path, text, message):
    (tmp_path / "faqbot.toml").write_text(text)
    with pytest.raises(FaqbotError) as err:
        load_settings(environ={})
    assert str(err.value) == message


def test_cli_refuses_a_typo_in_the_config_file(runner, tmp_path):
    from faqbot.cli import cli

    (tmp_path / "faqbot.toml").write_text("[faqbot]\nrate_limt = 10\n")
    result = runner.invoke(cli, ["ask", "refund"])
    assert result.exit_code == 1
    assert result.output == ("Error: 'rate_limt' (in faqbot.toml) is not a faqbot setting. "
                             "Did you mean 'rate_limit'?\n")


def test_unknown_environment_variable_is_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="faqbot"):
        settings = load_settings(environ={"FAQBOT_RATE_LIMT": "3", "FAQBOT_CONFIG": "", "FAQBOT_RATE_LIMIT": "7"})
    assert settings.rate_limit == 7
    assert caplog.messages == ["Warning: the environment variable FAQBOT_RATE_LIMT is not a faqbot setting "
                               "and is ignored. Did you mean 'rate_limit'?"]


def test_unknown_override_is_an_error():
    with pytest.raises(FaqbotError, match="'index_dri' \\(given to faqbot\\) is not a faqbot setting. "
                                          "Did you mean 'index_dir'\\?"):
        load_settings({"index_dri": "x"}, environ={})


@pytest.mark.parametrize("text, expected", [
    ("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("off", False),
])
def test_booleans_parse_strictly(text, expected):
    assert load_settings(environ={"FAQBOT_SEMANTIC": text}).semantic is expected


def test_good_values_of_every_kind_load(tmp_path):
    (tmp_path / "faqbot.toml").write_text('[faqbot]\nsources = ["a", "b"]\nworkers = 4\nmin_confidence = 0.5\n'
                                          'semantic = false\ncrawl_timeout = 3\ntrust_proxy = true\n')
    settings = load_settings({"port": 8123}, environ={"FAQBOT_TOP_K": " 7 ", "FAQBOT_ALLOWED_HOSTS": "a.example, b.example"})
    assert (settings.sources, settings.workers, settings.min_confidence, settings.semantic) == (("a", "b"), 4, 0.5, False)
    assert (settings.crawl_timeout, settings.trust_proxy, settings.port, settings.top_k) == (3.0, 1, 8123, 7)
    assert settings.allowed_hosts == ("a.example", "b.example")


def test_every_default_is_inside_its_own_range():
    from faqbot.config import SETTINGS

    for spec in SETTINGS:
        assert spec.help and spec.type in ("str", "int", "float", "bool", "list")
        if spec.low is not None:
            assert spec.low <= spec.default <= spec.high, spec.name
    assert load_settings(environ={}) == Settings()


def test_readme_configuration_table_is_the_settings_table():
    """Between the README's settings-table markers stands exactly what `python -m faqbot.config --markdown` prints
    (`python -m faqbot.config --write-readme README.md` writes it there)."""
    from faqbot.config import markdown_table, readme_table

    assert readme_table(README.read_text(encoding="utf-8")) == markdown_table()
