"""Hot swap: a running `faqbot serve` (gunicorn, 2 workers) answers throughout 20 re-indexes in a row,
every response from one whole index version, and then serves the newest one without a restart."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from faqbot.index.incremental import index_sources

REPO = Path(__file__).resolve().parent.parent
TOPICS = ("kayaks", "tents", "lanterns", "compasses")
ROUNDS = 20


def write_edition(folder: Path, edition: int) -> None:
    """Every passage of every article names the edition, so a mixed response would show."""
    for topic in TOPICS:
        (folder / f"{topic}.md").write_text(
            f"# Catalogue of {topic}\n\n"
            f"The catalogue of {topic}, edition {edition}, lists every model we sell with its price and weight.\n\n"
            f"## FAQ\n\n### Which edition of the {topic} catalogue is this?\n\n"
            f"This is edition {edition} of the {topic} catalogue, printed for the season.\n"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), {}


def test_queries_during_twenty_reindexes_all_succeed_from_one_version(tmp_path):
    corpus, ix = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    write_edition(corpus, 0)
    edition_of = {index_sources([corpus], ix).version: 0}
    port = free_port()
    env = {**os.environ, "FAQBOT_SEMANTIC": "0", "FAQBOT_LOG_QUESTIONS": "0", "FAQBOT_RATE_LIMIT": "0",
           "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "faqbot", "serve", "--port", str(port), "--workers", "2",
                               "--index", str(ix)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(base + "/api/health")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
            time.sleep(0.1)

        responses: list[tuple[int, str | None, set[str]]] = []
        stop = threading.Event()

        def client(n: int) -> None:
            topic = TOPICS[n % len(TOPICS)]
            while not stop.is_set():
                status, headers, data = http(base + "/api/ask", {"question": f"which edition of the {topic} catalogue", "top_k": 8})
                editions = {w for r in data.get("results", []) for w in [r["text"].split("edition ")[1].split()[0].strip(",.")]}
                responses.append((status, headers.get("X-Faqbot-Index-Version"), editions))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            for edition in range(1, ROUNDS + 1):
                write_edition(corpus, edition)
                report = index_sources([corpus], ix)
                assert report.read == len(TOPICS)
                edition_of[report.version] = edition
                # Keep each version published longer than the workers' 0.5 s manifest check, so
                # the swaps are seen however fast the machine builds.
                time.sleep(0.6)
        finally:
            time.sleep(0.6)  # the workers' manifest check interval is 0.5 s
            stop.set()
            for thread in threads:
                thread.join()

        assert len(responses) > 100
        assert [r for r in responses if r[0] != 200] == []  # zero failed requests
        for status, version, editions in responses:
            assert version in edition_of
            assert editions == {str(edition_of[version])}  # every passage from the version in the header
        served = {edition_of[v] for _, v, _ in responses}
        print(f"{len(responses)} responses from {len(served)} versions")
        assert len(served) >= ROUNDS // 2  # the swaps happened while the queries ran
        last = max(edition_of, key=edition_of.get)
        assert http(base + "/api/health")[2]["version"] == last
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
