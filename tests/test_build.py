"""Fast builds give the same index: analysis in worker processes, chunked postings, the word table."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st

from faqbot.text import analyze as analyzer
from faqbot.index.store import FIELDS, Index
from faqbot.index.writer import IndexWriter
from faqbot.model import Passage
from faqbot.index.pipeline import passage_tokens

from faqbot.index.incremental import index_sources

REPO = Path(__file__).resolve().parent.parent
WORDS = ("the refunds refund refunding it's don't Café café naïve ﬁle x" + "y" * 45 + " über straße 42 a_b "
         "databases connection's connecting configured configure résumé ŉ THE of and tomato tomatoes "
         + "z" * 39 + " " + "w" * 41 + " run running runner ran").split()


def passages(n: int, seed: int = 3) -> list[Passage]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) + rng.choice(["", "", ",", ".", "’s", "!"]) for _ in range(rng.randint(0, 30)))
        faq = i % 4 == 0
        out.append(Passage(id=f"a{i // 5}#{i}", article=f"a{i // 5}", kind="faq" if faq else "paragraph",
                           question=" ".join(rng.sample(WORDS, 4)) + "?" if faq else None, text=text,
                           title=rng.choice(WORDS), section=rng.choice(["", "Intro"]), url="/a", link="/a#x",
                           title_indexed=i % 3 != 0))
    return out


def files(index_dir: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    data = index_dir / "data" / manifest["version"]
    return {name: (data / name).read_bytes() for name in manifest["files"] if name not in skip}


def build(path: Path, items: list[Passage], how: str, langs=None) -> Path:
    writer = IndexWriter(path)
    langs = langs or [None] * len(items)
    if how == "tokens":
        for p, lang in zip(items, langs):
            writer.add(p, passage_tokens(p, lang), lang)
    elif how == "serial":
        for p, lang in zip(items, langs):
            writer.add_passage(p, lang)
    else:
        writer.add_passages(zip(items, langs), workers=2, batch=37)
    writer.publish(articles=1)
    return path


def test_parallel_serial_and_token_builds_write_the_same_index(tmp_path):
    items = passages(400)
    langs = [random.Random(i).choice([None, "en", "de", "fr-CA"]) for i in range(len(items))]
    serial = files(build(tmp_path / "s", items, "serial", langs))
    parallel = files(build(tmp_path / "p", items, "parallel", langs))
    tokens = files(build(tmp_path / "t", items, "tokens", langs), skip=("words.npy", "words.terms.npy", "words.slots.npy"))
    assert serial == parallel
    assert {k: v for k, v in serial.items() if not k.startswith("words.")} == tokens


def test_word_table_holds_each_english_word_with_its_stemmed_token(tmp_path):
    items = passages(200)
    index = Index.load(build(tmp_path / "ix", items, "serial"))
    table, rows = index.arrays["words"], index.arrays["words.terms"]
    assert len(table) > 20 and list(table) == sorted(table)
    for word, row in zip(table.tolist(), rows.tolist()):
        expected = analyzer._token(word.decode(), "english")
        assert (index.terms[row].decode() if row >= 0 else "") == expected
    seen = {w.encode() for p in items for text in (p.text, p.title, p.section, p.question or "") for w in analyzer.words(text)}
    assert set(table.tolist()) == {w for w in seen if len(w) < 40}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=12).filter(lambda b: not b.endswith(b"\0")), max_size=300, unique=True),
       st.lists(st.binary(max_size=12), max_size=20))
def test_hash_slots_find_every_key_and_nothing_else(keys, others):
    table = np.array(sorted(keys), dtype="S12")
    slots = analyzer.hash_slots(table)
    assert slots[-1] == -1 and sorted(slots[slots >= 0].tolist()) == list(range(len(keys)))
    words = analyzer.WordTable(table, np.arange(len(table), dtype=np.int32), table, slots=slots)
    for row, key in enumerate(table.tolist()):
        assert words._hashed([("w", key)]) == {"w": row}
    for key in others if len(keys) else ():
        assert words._hashed([("w", key)]) == words._searched([("w", key)])


def test_word_table_lookups_hashed_and_searched_agree(tmp_path):
    index = Index.load(build(tmp_path / "ix", passages(200), "serial"))
    table, rows, slots = index.arrays["words"], index.arrays["words.terms"], index.arrays["words.slots"]
    hashed = analyzer.WordTable(table, rows, index.terms, slots=slots)
    searched = analyzer.WordTable(table, rows, index.terms)
    assert hashed.slots is not None and searched.slots is None
    queries = [w.decode() for w in table.tolist()] + ["unseen", "Café", "x" * 60, "", "refunds"]
    assert hashed.lookup(queries) == searched.lookup(queries)
    assert len(hashed.lookup(queries)) == len(table)


def test_analyze_with_a_word_table_equals_stemming(tmp_path, monkeypatch):
    items = passages(150)
    build(tmp_path / "ix", items, "serial")
    texts = [p.text for p in passages(60, seed=9)] + ["Unseen wordings here", "x" * 50, "don’t’s café’s"]
    monkeypatch.setattr(analyzer, "_caches", {})
    expected = [analyzer.analyze(t) for t in texts]
    monkeypatch.setattr(analyzer, "_caches", {})
    table = Index.load(tmp_path / "ix").word_table
    assert table is not None
    assert [analyzer.analyze(t, table=table) for t in texts] == expected
    assert [analyzer.token(w, table=table) for w in ("refunds", "the", "unseen")] == ["refund", "", "unseen"]


def test_a_question_on_indexed_words_needs_no_stemmer_import(corpus_dir, tmp_path):
    index_sources([corpus_dir], tmp_path / "ix")
    code = (
        "import sys; from faqbot.index.store import Index; from faqbot.search.lexical import search; "
        f"ix = Index.load({str(tmp_path / 'ix')!r}); search(ix, 'How long does a refund take?', 5); "
        "print('nltk' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_postings_do_not_depend_on_chunking(tmp_path, monkeypatch):
    from faqbot.index import writer as index_module

    items = passages(300)
    whole = files(build(tmp_path / "a", items, "serial"))
    monkeypatch.setattr(index_module._FieldBuffer, "CHUNK_TOKENS", 50)
    assert files(build(tmp_path / "b", items, "serial")) == whole
    for field in FIELDS:
        assert np.load(tmp_path / "b" / "data" / json.loads((tmp_path / "b" / "manifest.json").read_text())["version"]
                       / f"{field}.docs.npy").dtype == np.int32


from faqbot.index.store import encode_term, index_text  # noqa: E402
from faqbot.index.terms import TermCoder  # noqa: E402

_ODD = "¨´ ΣσςΑΣ’'ǅﬁ\u0301\u0308\u00a0\u2028\u3000\x1c①Ⅻİ_-.,!?é"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(_ODD), st.characters(codec="utf-8")), max_size=60),
       st.sampled_from([None, "en", "de"]))
def test_term_coder_reads_text_as_analyze_does(text, lang):
    coder = TermCoder()
    passage = Passage(id="a#0", article="a", kind="faq", question=text[::-1], text=text, title="Ab ΟΔΟΣ",
                      section=text[:7], url="/a", link="/a#x")
    ids = coder.passage_ids(passage, lang)
    keys = list(coder.vocab)  # ids are numbered in order
    for field, field_text in index_text(passage).items():
        assert [keys[i] for i in ids[field]] == [encode_term(t) for t in analyzer.analyze(field_text, lang)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8")), min_size=8, max_size=8), st.booleans())
def test_store_line_is_the_json_of_the_passage(values, faq):
    from faqbot.index.store import store_line

    passage = Passage(id=values[0], article=values[1], kind="faq" if faq else "paragraph",
                      question=values[2] if faq else None, text=values[3], title=values[4], section=values[5],
                      url=values[6], link=values[7])
    expected = json.dumps({**passage.to_dict(), "article": passage.article}, ensure_ascii=False).encode() + b"\n"
    assert store_line(passage) == expected
    assert Passage(**json.loads(store_line(passage))) == passage


def test_an_error_in_a_worker_reaches_the_builder(tmp_path):
    import pytest

    writer = IndexWriter(tmp_path / "ix")
    items = [(p, None) for p in passages(30)] + [(passages(1)[0], 5)]  # 5 is no language tag
    with pytest.raises(AttributeError):
        writer.add_passages(items, workers=2, batch=4)
    writer.abort()
    assert not list((tmp_path / "ix" / "data").iterdir())
