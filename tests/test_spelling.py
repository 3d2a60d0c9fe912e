"""The spelling deletion table finds exactly the corrections the plain neighbour search finds."""

from __future__ import annotations

import json
import random
import numpy as np
from hypothesis import given, settings, strategies as st

from faqbot.search.answer import AnswerSettings, ask
from faqbot.index.store import MAX_TERM_BYTES, Index
from faqbot.index.incremental import index_sources
from faqbot.search.lexical import parse_query
from faqbot.search.spelling import correct, indexed_neighbours, is_neighbour, neighbours
from faqbot.index.spelling_table import DELETION_ARRAYS, deletion_arrays, deletion_keys

from .conftest import REPO, SHARED

ALPHABET = "abcdeéßAж"  # a-z letters, letters neighbours() never inserts, one of two UTF-8 bytes


@given(st.text(ALPHABET, max_size=9), st.text(ALPHABET, max_size=9))
def test_is_neighbour_agrees_with_the_neighbour_list(term, other):
    assert is_neighbour(term, other) == (other in neighbours(term))


@given(st.text(ALPHABET, min_size=1, max_size=9), st.data())
def test_every_listed_neighbour_is_one(term, data):
    found = sorted(neighbours(term))
    assert is_neighbour(term, data.draw(st.sampled_from(found)))


class _Terms:
    """What spelling reads of an index: a sorted term table, its arrays and body postings counts."""

    def __init__(self, words: list[str], table: bool):
        self.terms = np.array(sorted({w.encode("utf-8")[:MAX_TERM_BYTES] for w in words}), dtype=f"S{MAX_TERM_BYTES}")
        self.arrays = deletion_arrays(self.terms.tolist(), MAX_TERM_BYTES) if table else {}


# Words near the term table's width (40 bytes; "é" takes two): cut in the table, beyond the deletion table.
_WORDS = st.text(ALPHABET, min_size=3, max_size=8) | st.text("aéb", min_size=17, max_size=24)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=40), st.data())
def test_the_deletion_table_finds_the_same_neighbours(vocabulary, data):
    near = st.sampled_from(sorted(neighbours(data.draw(st.sampled_from(vocabulary)))))  # a typo of an indexed word
    term = data.draw(near | st.text(ALPHABET, min_size=5, max_size=9) | _WORDS)
    with_table, without = _Terms(vocabulary, True), _Terms(vocabulary, False)
    assert indexed_neighbours(with_table, term) == sorted(indexed_neighbours(without, term), key=lambda f: f[1])


def test_deletion_keys_match_the_table():
    words = ["refund", "refunds", "tomatoes", "kündigen", "tooth"]
    arrays = deletion_arrays([w.encode() for w in sorted(words)], MAX_TERM_BYTES)
    keys = set(arrays["spelling.keys"].tolist())
    for word in words:
        assert set(deletion_keys(word)) <= keys
    assert deletion_keys("refnd")[0] in set(deletion_keys("refund"))  # one deletion of refund is refnd
    assert len(arrays["spelling.keys"]) == len(arrays["spelling.rows"]) and list(arrays) == list(DELETION_ARRAYS)
    # A run of one letter ("oo") gives one deletion key, not two.
    assert len(arrays["spelling.keys"]) == sum(len(set(deletion_keys(w))) for w in words)


def _questions(corpus_words: list[str]) -> list[str]:
    """Readers' questions of the repo and the dev set, and a typo of each long indexed word."""
    rows = [json.loads(line) for line in (REPO / "tests" / "data" / "realistic_faq.jsonl").open(encoding="utf-8")]
    questions = [row["query"] for row in rows]
    dev = SHARED / "eval" / "queries.jsonl"
    if dev.exists():
        questions += [json.loads(line)["query"] for line in dev.open(encoding="utf-8")]
    rng = random.Random(7)
    for word in corpus_words:
        if len(word) >= 5 and word.isalpha():
            questions.append(rng.choice(sorted(neighbours(word))))
    return questions


def test_corrections_and_answers_equal_the_plain_search(tmp_path):
    """On the sample corpus (and the dev articles when present): each question's correction and the
    whole ask() response are the same with the deletion table as without it."""
    folders = [REPO / "corpus"] + ([SHARED / "eval" / "articles"] if (SHARED / "eval" / "articles").is_dir() else [])
    index_sources(folders, tmp_path / "ix")
    index = Index.load(tmp_path / "ix")
    assert all(name in index.arrays for name in DELETION_ARRAYS)
    plain = Index.load(tmp_path / "ix")
    plain.arrays = {k: v for k, v in plain.arrays.items() if k not in DELETION_ARRAYS}
    words = [t.decode("utf-8", "replace") for t in index.terms.tolist()]
    changed = 0
    for question in _questions(words):
        fast, slow = correct(index, parse_query(index, question)), correct(plain, parse_query(plain, question))
        assert (fast.terms, fast.ids, fast.known) == (slow.terms, slow.ids, slow.known), question
        changed += fast.terms != parse_query(index, question).terms
        got, want = ask(index, question, 5, AnswerSettings()), ask(plain, question, 5, AnswerSettings())
        got.pop("took_ms"), want.pop("took_ms")
        assert got == want, question
    assert changed >= 100  # the comparison covered many corrections, not only untouched questions


def test_an_index_without_the_table_still_corrects(index_dir):
    index = Index.load(index_dir)
    index.arrays = {k: v for k, v in index.arrays.items() if k not in DELETION_ARRAYS}
    assert correct(index, parse_query(index, "refnud")).known == parse_query(index, "refund").known
