"""Build, publish and load the on-disk index.

Layout of an index directory:

    manifest.json          the published version: format, counts, build time, content hash
    data/<version>/        plain .npy arrays and a JSON-lines passage store (no pickle)

A build writes data/<version>/ completely, then replaces manifest.json atomically (os.replace):
that rename is the commit point, so a crash at any moment leaves the previous version serving
and a reader never sees half of an index. Arrays are memory-mapped on load, so loading takes
milliseconds and worker processes share the same pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analyze import ANALYZER_VERSION
from .bm25 import B, EPSILON, K1, Postings, build_postings
from .errors import IndexInvalid, IndexMissing
from .model import Passage

FORMAT = "faqbot-index"
FORMAT_VERSION = 1
FIELDS = ("body", "question")
MAX_TERM_BYTES = 40  # longer tokens are cut: they are noise (hashes, URLs) and bloat the term table
KEEP_VERSIONS = 2  # the published version and the one before it, for readers still holding it


def index_text(passage: Passage) -> dict[str, str]:
    """The text each field indexes for a passage.

    body: everything a reader could be asking about (question, answer or paragraph, and where it
    stands); question: the FAQ question alone, so a question that matches it can rank its answer first.
    """
    context = f"{passage.title} {passage.section}"
    return {
        "body": f"{passage.question or ''} {passage.text} {context}",
        "question": passage.question or "",
    }


def encode_term(term: str) -> bytes:
    """A term as stored in the sorted term table."""
    return term.encode("utf-8")[:MAX_TERM_BYTES]


@dataclass
class BuiltIndex:
    """What a build produced, before or after it is written to disk."""

    manifest: dict
    version: str


def build_index(
    passages: list[Passage],
    field_tokens: dict[str, list[list[str]]],
    index_dir: str | Path,
    articles: int,
    extra_arrays: dict[str, np.ndarray] | None = None,
    crash_hook=None,
) -> BuiltIndex:
    """Write a new index version for passages and publish it atomically.

    field_tokens maps each name in FIELDS to one token list per passage. crash_hook(step) is
    called between steps; tests use it to simulate a crash mid-build.
    """
    index_dir = Path(index_dir)
    (index_dir / "data").mkdir(parents=True, exist_ok=True)
    hook = crash_hook or (lambda step: None)
    term_set = sorted({encode_term(t) for tokens in field_tokens.values() for doc in tokens for t in doc})
    term_id = {t: i for i, t in enumerate(term_set)}
    version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir / "data"))
    try:
        arrays: dict[str, np.ndarray] = {
            "terms": np.array(term_set, dtype=f"S{MAX_TERM_BYTES}") if term_set else np.zeros(0, "S1"),
            "kinds": np.array([p.kind == "faq" for p in passages], dtype=np.uint8),
        }
        for field in FIELDS:
            ids = [[term_id[encode_term(t)] for t in doc] for doc in field_tokens[field]]
            postings = build_postings(ids, len(term_set))
            arrays[f"{field}.indptr"] = postings.indptr
            arrays[f"{field}.docs"] = postings.docs
            arrays[f"{field}.weights"] = postings.weights
            arrays[f"{field}.idf"] = postings.idf
            hook(f"field:{field}")
        arrays.update(extra_arrays or {})
        files = {}
        for name, array in arrays.items():
            files[f"{name}.npy"] = _write_npy(staging / f"{name}.npy", array)
        hook("arrays")
        files["passages.jsonl"], offsets = _write_passages(staging / "passages.jsonl", passages)
        files["passages.offsets.npy"] = _write_npy(staging / "passages.offsets.npy", offsets)
        hook("passages")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "analyzer": ANALYZER_VERSION,
            "version": version,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "counts": {
                "articles": articles,
                "passages": len(passages),
                "faq_pairs": sum(p.kind == "faq" for p in passages),
                "paragraphs": sum(p.kind == "paragraph" for p in passages),
                "terms": len(term_set),
            },
            "bm25": {"k1": K1, "b": B, "epsilon": EPSILON, "fields": list(FIELDS)},
            "files": files,
            "content_hash": hashlib.sha256(
                json.dumps(files, sort_keys=True).encode()
            ).hexdigest(),
        }
        _write_json(staging / "manifest.json", manifest)
        _fsync_dir(staging)
        final = index_dir / "data" / version
        os.rename(staging, final)
        _fsync_dir(index_dir / "data")
        hook("renamed")
        _write_json(index_dir / "manifest.tmp", manifest)
        os.replace(index_dir / "manifest.tmp", index_dir / "manifest.json")  # the commit point
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(index_dir, keep=version)
    return BuiltIndex(manifest=manifest, version=version)


def _write_npy(path: Path, array: np.ndarray) -> dict:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    return {"bytes": path.stat().st_size}


def _write_passages(path: Path, passages: list[Passage]) -> tuple[dict, np.ndarray]:
    offsets = np.zeros(len(passages) + 1, dtype=np.int64)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for i, passage in enumerate(passages):
            line = json.dumps({**passage.to_dict(), "article": passage.article}, ensure_ascii=False).encode() + b"\n"
            f.write(line)
            digest.update(line)
            offsets[i + 1] = offsets[i] + len(line)
        f.flush()
        os.fsync(f.fileno())
    return {"bytes": int(offsets[-1]), "sha256": digest.hexdigest()}, offsets


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(index_dir: Path, keep: str) -> None:
    """Delete old versions and abandoned builds (readers holding them keep their mapped pages)."""
    data = index_dir / "data"
    versions = sorted((p for p in data.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in data.glob(".build-*"):
        if leftover.stat().st_mtime < dt.datetime.now().timestamp() - 3600:
            shutil.rmtree(leftover, ignore_errors=True)


def read_manifest(index_dir: str | Path) -> dict:
    """The published manifest of an index directory; IndexMissing / IndexInvalid when unusable."""
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        raise IndexMissing(f"No index in {index_dir}. Run `faqbot index` first.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexInvalid(f"The index manifest {path} is unreadable ({err}). Rebuild with `faqbot index --full`.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexInvalid(f"{path} is not a faqbot index manifest. Rebuild with `faqbot index --full`.")
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("analyzer") != ANALYZER_VERSION:
        raise IndexInvalid(
            f"The index in {index_dir} has format {manifest.get('format_version')} / analyzer "
            f"{manifest.get('analyzer')}; this faqbot reads format {FORMAT_VERSION} / analyzer "
            f"{ANALYZER_VERSION}. Rebuild with `faqbot index --full`."
        )
    return manifest


class Index:
    """A loaded, read-only index version: term table, per-field postings and the passage store."""

    def __init__(self, index_dir: Path, manifest: dict, arrays: dict[str, np.ndarray], store: np.memmap):
        self.dir = index_dir
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.arrays = arrays
        self.terms = arrays["terms"]
        self.kinds = arrays["kinds"]
        self.n_passages = int(manifest["counts"]["passages"])
        self.fields = {
            f: Postings(arrays[f"{f}.indptr"], arrays[f"{f}.docs"], arrays[f"{f}.weights"], arrays[f"{f}.idf"])
            for f in FIELDS
        }
        self._store = store
        self._offsets = arrays["passages.offsets"]

    @classmethod
    def load(cls, index_dir: str | Path) -> "Index":
        """Open the published version of index_dir, memory-mapped; refuse anything inconsistent."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        data = index_dir / "data" / str(manifest.get("version", ""))
        arrays = {}
        try:
            for name, info in manifest["files"].items():
                path = data / name
                if path.stat().st_size != info["bytes"]:
                    raise IndexInvalid(f"{path} is truncated or changed since the build. Rebuild with `faqbot index --full`.")
                if name.endswith(".npy"):
                    arrays[name[:-4]] = np.load(path, mmap_mode="r", allow_pickle=False)
            n = int(manifest["counts"]["passages"])
            store_path = data / "passages.jsonl"
            store = np.memmap(store_path, dtype=np.uint8, mode="r") if store_path.stat().st_size else np.zeros(0, np.uint8)
            if len(arrays["passages.offsets"]) != n + 1 or len(arrays["kinds"]) != n:
                raise IndexInvalid(f"The index in {index_dir} is inconsistent (passage counts differ). Rebuild it.")
        except IndexInvalid:
            raise
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise IndexInvalid(f"The index in {index_dir} is damaged ({err}). Rebuild with `faqbot index --full`.") from None
        return cls(index_dir, manifest, arrays, store)

    def term_id(self, term: str) -> int | None:
        """Row of term in the sorted term table, or None if no passage has it."""
        key = encode_term(term)
        i = int(np.searchsorted(self.terms, key))
        return i if i < len(self.terms) and self.terms[i] == key else None

    def passage(self, i: int) -> Passage:
        """Passage number i, decoded from the store on demand."""
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        data = json.loads(bytes(self._store[lo:hi]))
        return Passage(
            id=data["id"], article=data["article"], kind=data["kind"], question=data["question"],
            text=data["text"], title=data["title"], section=data["section"], url=data["url"], link=data["link"],
        )

    def faq_ids(self) -> np.ndarray:
        """Indices of FAQ passages, in index order."""
        return np.flatnonzero(self.kinds)
