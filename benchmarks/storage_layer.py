"""faqbot.ops.storage (psycopg 3 under a thin layer) against SQLAlchemy Core, on a throwaway PostgreSQL.

    python -m venv /tmp/sa && /tmp/sa/bin/pip install sqlalchemy 'psycopg[binary]'
    PYTHONPATH=. /tmp/sa/bin/python benchmarks/storage_layer.py     # needs postgresql (initdb, pg_ctl)

Prints, for each: the import time in a fresh interpreter, and the time to write one worker's
second of questions (100 rows in one transaction, as QuestionLog.flush does: COPY through
faqbot.ops.storage, a multi-row insert through SQLAlchemy), median of 200,
interleaved so machine drift hits both alike. SQLAlchemy is not a faqbot dependency; this
script is how the choice was measured.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ROWS = [(1_700_000_000.0 + i, f"how do refunds work {i}", 1, "refunds#0", 3.2, 0.8) for i in range(100)]
COLUMNS = ("at", "question", "answered", "passage_id", "score", "confidence")


def import_ms(statement: str) -> float:
    """Median wall time of `statement` in a fresh interpreter (5 runs)."""
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env={"PYTHONPATH": str(REPO)}).stdout) for _ in range(5)]
    return statistics.median(runs)


def main() -> None:
    import sqlalchemy as sa

    from faqbot.ops.storage import Database
    from tests.cluster_servers import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        url = server.new_database("storage_bench")
        ours = Database(url)
        ours.schema_versions()  # creates the schema
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        asked = sa.Table("asked", sa.MetaData(), autoload_with=engine)
        dicts = [dict(zip(COLUMNS, row)) for row in ROWS]

        def with_ours() -> None:
            with ours.transaction() as tx:
                tx.insert_rows("asked", COLUMNS, ROWS)

        def with_sqlalchemy() -> None:
            with engine.begin() as conn:
                conn.execute(sa.insert(asked), dicts)

        times: dict[str, list[float]] = {"faqbot.ops.storage (psycopg)": [], "SQLAlchemy Core (psycopg)": []}
        for _ in range(200):
            for name, write in zip(times, (with_ours, with_sqlalchemy)):
                started = time.perf_counter()
                write()
                times[name].append((time.perf_counter() - started) * 1000)
    finally:
        server.close()
    imports = {"faqbot.ops.storage (psycopg)": import_ms("import faqbot.ops.storage, psycopg"),
               "SQLAlchemy Core (psycopg)": import_ms("import sqlalchemy, psycopg")}
    print("| layer | import (ms) | flush of 100 questions, median (ms) | p90 (ms) |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        runs.sort()
        print(f"| {name} | {imports[name]:.0f} | {statistics.median(runs):.2f} | {runs[int(len(runs) * 0.9)]:.2f} |")


if __name__ == "__main__":
    main()
