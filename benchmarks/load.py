"""Sustained load on POST /api/ask against `faqbot serve --workers 2`, and a rate-limit check.

    apt-get install -y wrk        # optional: a threaded Python client is used without it
    python benchmarks/load.py                     # sample corpus (lexical, semantic) + 100k passages
    python benchmarks/load.py --seconds 5 --no-100k
    python benchmarks/load.py --cluster --repeat 3  # 2 replicas on PostgreSQL + Redis vs 1 on SQLite

Each run starts the real server on 127.0.0.1 (gunicorn, 2 sync workers), drives it with wrk (one
thread, `--connections` keep-alive connections; the sync workers close each connection after the
answer, so wrk reconnects) for `--seconds`, and prints requests/s, p50/p99 latency, errors, the
resident memory of each worker, the workers' CPU time per request (from /proc: steadier than the
wall figures when other jobs share the cores) and the 1-minute load average before the run. The
throughput runs have the rate limit off unless the row says otherwise, and the question log on
(as in production). The 100k-passage index comes from benchmarks/speed.py's cache
(benchmarks/.cache/index-100000) or is built here with IndexWriter; benchmarks/speed.py calls
http_figures(). The rate-limit check runs a server with rate_limit=30 and two clients on different
loopback addresses (127.0.0.2, 127.0.0.3): the first gets 429 + Retry-After after 30 requests, the
second is still answered. Traffic goes to loopback only and every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CACHE = REPO / "benchmarks" / ".cache"

CORPUS_QUESTIONS = [
    "What are the main challenges of open source AI?", "how do I start commuting by bike", "how much coffee per cup",
    "why do my houseplant leaves turn yellow", "what can I put in the compost", "how do I install faqbot",
    "is open source AI safe", "how often should I water a cactus", "best grind size for espresso",
    "what should I wear cycling in the rain", "does compost smell", "can faqbot index html pages",
]

WRK_SCRIPT = """
local questions = {%s}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/api/ask", nil, questions[(n %% #questions) + 1])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m faqbot serve --workers N` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, index_dir: Path, env: dict[str, str], workdir: Path, workers: int = 2):
        self.port = free_port()
        self.n_workers = workers
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
        self.env.update(env, PYTHONPATH=str(REPO))
        self.args = [sys.executable, "-m", "faqbot", "serve", "--workers", str(workers), "--host", "127.0.0.1",
                     "--port", str(self.port), "--index", str(index_dir)]
        self.workdir = workdir

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.workdir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"faqbot serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                status, _, _ = request(self.port, "GET", "/api/health")
                if status == 200 and len(self.workers()) == self.n_workers:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("faqbot serve did not come up within 180 s")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def workers(self) -> list[int]:
        """PIDs of the gunicorn workers (children of the serve process)."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def worker_rss_mb(self) -> list[float]:
        out = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            out.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        return out

    def worker_cpu_seconds(self) -> float:
        """User + system CPU time of all workers so far."""
        return sum(cpu_seconds(pid) for pid in self.workers())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request(port: int, method: str, path: str, body: dict | None = None, source: str | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                              source_address=(source, 0) if source else None)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        if own:
            conn.close()


def _start_wrk(port: int, script: str, seconds: int, connections: int) -> subprocess.Popen:
    return subprocess.Popen(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
                             "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _parse_wrk(out: str) -> dict:
    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": latency("50"), "p99_ms": latency("99"), "errors": errors}


def drive_wrk(port: int | list[int], questions: list[str], seconds: int, connections: int) -> dict:
    """wrk against one port, or one wrk per port at once (connections split evenly) for several replicas.

    With several wrk processes: requests, requests/s and errors are summed, p50 is their
    request-weighted mean and p99 the highest of their p99s (a histogram cannot be merged from wrk's text).
    """
    ports = port if isinstance(port, list) else [port]
    bodies = ", ".join(json.dumps(json.dumps({"question": q})) for q in questions)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % bodies)
    try:
        started = os.times()
        procs = [_start_wrk(p, f.name, seconds, max(1, connections // len(ports))) for p in ports]
        runs = [_parse_wrk(proc.communicate(timeout=seconds + 60)[0]) for proc in procs]
        ended = os.times()
    finally:
        os.unlink(f.name)
    total = sum(r["requests"] for r in runs)
    client_cpu = (ended.children_user + ended.children_system) - (started.children_user + started.children_system)
    return {"client": "wrk" if len(runs) == 1 else f"{len(runs)} x wrk", "requests": total,
            "rps": sum(r["rps"] for r in runs), "p50_ms": sum(r["p50_ms"] * r["requests"] for r in runs) / max(total, 1),
            "p99_ms": max(r["p99_ms"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "client_cpu_ms": client_cpu * 1000 / max(total, 1)}


def drive_python(port: int, questions: list[str], seconds: int, connections: int) -> dict:
    """Fallback client: one keep-alive connection per thread, bounded by time."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = offset
        mine, bad = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status, _, _ = request(port, "POST", "/api/ask", {"question": questions[n % len(questions)]}, conn=conn)
                bad += status != 200
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
            n += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {"client": "python", "requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "errors": errors[0], "client_cpu_ms": None}


def build_100k(index_dir: Path) -> Path:
    """The 100k-passage index: speed.py's cached one, or built here with IndexWriter."""
    from faqbot.errors import FaqbotError
    from faqbot.index.store import Index

    cached = CACHE / "index-100000"
    for candidate in (cached, index_dir):
        try:
            if Index.load(candidate).n_passages == 100_000:
                return candidate
        except FaqbotError:
            pass
    from benchmarks.corpus_pool import make_passages
    from faqbot.index.writer import IndexWriter
    from faqbot.index.pipeline import passage_tokens

    print("building a 100k-passage index (a few minutes)...", file=sys.stderr, flush=True)
    writer = IndexWriter(index_dir)
    for passage in make_passages(100_000):
        writer.add(passage, passage_tokens(passage))
    writer.publish(articles=5000)
    return index_dir


def semantic_available() -> bool:
    from faqbot.index.embed import load_embedder

    return load_embedder() is not None


def http_figures(index_dir: str | Path, workers: int = 2, seconds: int = 10, connections: int = 4,
                 semantic: bool = False, rate_limit: int = 0, question_log: bool = True,
                 questions: list[str] | None = None, python_client: bool = False) -> dict:
    """Serve index_dir with `faqbot serve --workers N` and drive POST /api/ask for `seconds`.

    rate_limit 0 turns the limit off (a number above the request count keeps it on, never refusing);
    the question log is on as in production. Returns requests, rps, p50_ms, p99_ms, errors, rss_mb
    (per worker), server_cpu_ms and client_cpu_ms (CPU time per request), load_avg (1 minute,
    before the run) and the settings used.
    """
    if questions is None:
        from benchmarks.corpus_pool import make_queries

        questions = make_queries(200)
    with tempfile.TemporaryDirectory(prefix="faqbot-http-") as tmp:
        workdir = Path(tmp)
        env = {"FAQBOT_SEMANTIC": "1" if semantic else "0", "FAQBOT_RATE_LIMIT": str(rate_limit),
               "FAQBOT_LOG_QUESTIONS": "1" if question_log else "0",
               "FAQBOT_QUESTION_LOG": str(workdir / "questions.sqlite")}
        with Server(Path(index_dir), env, workdir, workers) as server:
            for q in questions[:50]:  # fresh connections: warm both workers (page cache, model)
                request(server.port, "POST", "/api/ask", {"question": q})
            drive = drive_wrk if shutil.which("wrk") and not python_client else drive_python
            load_avg = os.getloadavg()[0]
            cpu_before = server.worker_cpu_seconds()
            result = drive(server.port, questions, seconds, connections)
            server_cpu = server.worker_cpu_seconds() - cpu_before
            result["rss_mb"] = server.worker_rss_mb()
    return {**result, "server_cpu_ms": server_cpu * 1000 / max(result["requests"], 1), "load_avg": load_avg,
            "workers": workers, "seconds": seconds, "connections": connections, "rate_limit": rate_limit,
            "question_log": question_log, "semantic": semantic}


def throughput_run(label: str, index_dir: Path, semantic: bool, questions: list[str], args, rate_limit: int = 0) -> dict:
    """The run with the median requests/s of args.repeat runs."""
    runs = []
    for n in range(args.repeat):
        print(f"[{label}] faqbot serve --workers 2, {args.seconds} s of load, {args.connections} connections "
              f"(run {n + 1} of {args.repeat}) ...", file=sys.stderr, flush=True)
        runs.append(http_figures(index_dir, 2, args.seconds, args.connections, semantic, rate_limit,
                                 questions=questions, python_client=args.python_client))
    runs.sort(key=lambda r: r["rps"])
    return {"setup": label + (f" (median of {args.repeat})" if args.repeat > 1 else ""), **runs[len(runs) // 2]}


def rate_limit_check(index_dir: Path, workdir: Path) -> list[str]:
    """One client over the limit gets 429 + Retry-After while another is still served (2 workers, shared counts)."""
    env = {"FAQBOT_SEMANTIC": "0", "FAQBOT_RATE_LIMIT": "30", "FAQBOT_QUESTION_LOG": str(workdir / "rl-questions.sqlite")}
    lines = []
    with Server(index_dir, env, workdir) as server:
        codes, retry_after = [], None
        for _ in range(40):  # fresh connections: gunicorn spreads them over both workers
            status, headers, body = request(server.port, "POST", "/api/ask", {"question": "how do I compost"},
                                            source="127.0.0.2")
            codes.append(status)
            if status == 429:
                retry_after = headers.get("Retry-After")
                error = json.loads(body)["error"]
        other, _, _ = request(server.port, "POST", "/api/ask", {"question": "how do I compost"}, source="127.0.0.3")
        lines.append(f"client 127.0.0.2, 40 requests, rate_limit=30: {codes.count(200)} x 200, {codes.count(429)} x 429 "
                     f"(Retry-After: {retry_after}s; \"{error}\")" if retry_after else
                     f"client 127.0.0.2: {codes.count(200)} x 200, no 429 (FAILED)")
        lines.append(f"client 127.0.0.3 right after: {other}" + (" (served)" if other == 200 else " (FAILED)"))
    return lines


def _logged(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM asked").fetchone()[0]


def cluster_comparison(args) -> None:
    """2 replicas (1 worker each; PostgreSQL question log, Redis rate limit) against 1 replica with 2
    workers (SQLite log and limit), and 2 replicas on their own SQLite files (the same topology without
    the shared stores), interleaved; every question of the PostgreSQL runs checked in the log."""
    from tests.cluster_servers import PostgresServer, RedisServer, missing_reason

    if missing_reason():
        raise SystemExit(missing_reason())
    pg, redis = PostgresServer(), RedisServer()
    pg.start()
    redis.start()
    rows, checks = [], []
    try:
        url = pg.new_database("load")
        from faqbot.ops.storage import Database

        Database(url).schema_versions()  # the schema, as the first replica would create it
        with tempfile.TemporaryDirectory(prefix="faqbot-cluster-load-") as tmp:
            workdir = Path(tmp)
            index_dir = workdir / "index"
            env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
            subprocess.run([sys.executable, "-m", "faqbot", "index", str(REPO / "corpus"), "--index", str(index_dir)],
                           env={**env, "FAQBOT_SEMANTIC": "0", "PYTHONPATH": str(REPO)}, cwd=workdir, check=True,
                           capture_output=True)
            common = {"FAQBOT_SEMANTIC": "0", "FAQBOT_RATE_LIMIT": str(10**6)}  # on, never refusing
            order = ["sqlite", "cluster", "split"]
            for n in range(args.repeat):
                for setup in order[n % 3:] + order[:n % 3]:  # each setup takes each place in turn
                    print(f"[{setup}] run {n + 1} of {args.repeat}, {args.seconds} s ...", file=sys.stderr, flush=True)
                    servers = []
                    for name in (("one",) if setup == "sqlite" else ("a", "b")):
                        folder = workdir / f"{setup}-{name}-{n}"  # each replica its own index copy and folder
                        shutil.copytree(index_dir, folder / "index")
                        shared = {"FAQBOT_QUESTION_LOG": url, "FAQBOT_RATE_LIMIT_STORAGE": redis.url}
                        own = {"FAQBOT_QUESTION_LOG": str(folder / "q.sqlite")}
                        servers.append(Server(folder / "index", {**common, **(shared if setup == "cluster" else own)},
                                              folder, 2 if setup == "sqlite" else 1))
                    before = _logged(url)
                    for server in servers:
                        server.__enter__()
                    try:
                        for server in servers:
                            for q in CORPUS_QUESTIONS * 2:
                                request(server.port, "POST", "/api/ask", {"question": q})
                        ports = [s.port for s in servers] * (2 // len(servers))
                        load_avg = os.getloadavg()[0]
                        cpu_before = sum(s.worker_cpu_seconds() for s in servers)
                        result = drive_wrk(ports, CORPUS_QUESTIONS, args.seconds, args.connections)
                        server_cpu = sum(s.worker_cpu_seconds() for s in servers) - cpu_before
                        rss = [m for s in servers for m in s.worker_rss_mb()]
                    finally:
                        for server in servers:
                            server.__exit__()  # SIGTERM: the workers write their buffered questions
                    label = {"sqlite": "1 replica x 2 workers, SQLite log + limit",
                             "cluster": "2 replicas x 1 worker, PostgreSQL log + Redis limit",
                             "split": "2 replicas x 1 worker, each its own SQLite log + limit"}[setup]
                    rows.append({"setup": f"{label} (run {n + 1})", **result, "rate_limit": 10**6, "rss_mb": rss,
                                 "server_cpu_ms": server_cpu * 1000 / max(result["requests"], 1), "load_avg": load_avg})
                    if setup == "cluster":
                        sent = result["requests"] + len(servers) * len(CORPUS_QUESTIONS) * 2
                        logged = _logged(url) - before
                        checks.append(f"run {n + 1}: {sent} questions answered (wrk counted {result['requests']} + "
                                      f"{len(servers) * len(CORPUS_QUESTIONS) * 2} warm-up), {logged} new rows in the "
                                      f"PostgreSQL log" + (" (all there)" if logged >= sent else " (MISSING ROWS)"))
    finally:
        pg.close()
        redis.close()
    print()
    print(f"Same total workers (2), wrk split over 2 processes x {args.connections // 2} connections, {args.seconds} s per "
          f"row, A/B interleaved; rate limit on (10^6/min: counted, never refusing). The machine is shared.")
    print_table(rows)
    for setup in ("1 replica x 2 workers, SQLite", "2 replicas x 1 worker, PostgreSQL",
                  "2 replicas x 1 worker, each its own SQLite"):
        mine = [r for r in rows if r["setup"].startswith(setup)]
        print(f"median of {setup:42}: {statistics.median(r['rps'] for r in mine):.0f} req/s, "
              f"p99 {statistics.median(r['p99_ms'] for r in mine):.1f} ms, errors {sum(r['errors'] for r in mine)}")
    print()
    for line in checks:
        print(line)


def print_table(rows: list[dict]) -> None:
    head = ("setup", "rate limit", "client", "requests", "req/s", "p50 ms", "p99 ms", "errors",
            "CPU ms/req (workers)", "CPU ms/req (client)", "RSS per worker (MB)", "load avg")
    table = [head] + [(r["setup"], f"{r['rate_limit']}/min" if r["rate_limit"] else "off", r["client"],
                       str(r["requests"]), f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                       str(r["errors"]), f"{r['server_cpu_ms']:.2f}",
                       "-" if r["client_cpu_ms"] is None else f"{r['client_cpu_ms']:.2f}",
                       " / ".join(f"{m:.0f}" for m in r["rss_mb"]), f"{r['load_avg']:.1f}")
                      for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for n, row in enumerate(table):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="load duration per setup [15]")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections [4]")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setup; the median by req/s is shown [1]")
    parser.add_argument("--with-rate-limit", action="store_true",
                        help="also run the 100k index with the rate limit on at 1,000,000 a minute (never refusing)")
    parser.add_argument("--no-100k", action="store_true", help="skip the 100k-passage index")
    parser.add_argument("--no-semantic", action="store_true", help="skip the semantic-ranking run")
    parser.add_argument("--no-lexical", action="store_true", help="skip the sample-corpus lexical run")
    parser.add_argument("--python-client", action="store_true", help="use the Python client even if wrk exists")
    parser.add_argument("--cluster", action="store_true",
                        help="only compare 2 replicas (PostgreSQL log, Redis limit) with 1 replica (SQLite) "
                             "at the same total workers, A/B interleaved (needs postgresql and redis-server)")
    parser.add_argument("--blas-threads", type=int, help="OPENBLAS_NUM_THREADS for the server [unset: OpenBLAS default]")
    args = parser.parse_args()
    if args.blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be 1..120")
    if not 1 <= args.repeat <= 9:
        parser.error("--repeat must be 1..9")

    if args.cluster:
        cluster_comparison(args)
        return
    rows, checks = [], []
    with tempfile.TemporaryDirectory(prefix="faqbot-load-") as tmp:
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
        lexical_dir, semantic_dir = workdir / "corpus-lexical", workdir / "corpus-semantic"
        subprocess.run([sys.executable, "-m", "faqbot", "index", str(REPO / "corpus"), "--index", str(lexical_dir)],
                       env={**env, "FAQBOT_SEMANTIC": "0", "PYTHONPATH": str(REPO)}, cwd=workdir, check=True,
                       capture_output=True)
        if not args.no_lexical:
            rows.append(throughput_run("sample corpus, lexical", lexical_dir, False, CORPUS_QUESTIONS, args))
        if not args.no_semantic and semantic_available():
            subprocess.run([sys.executable, "-m", "faqbot", "index", str(REPO / "corpus"), "--index", str(semantic_dir)],
                           env={**env, "FAQBOT_SEMANTIC": "1", "PYTHONPATH": str(REPO)}, cwd=workdir, check=True,
                           capture_output=True)
            rows.append(throughput_run("sample corpus, semantic", semantic_dir, True, CORPUS_QUESTIONS, args))
        elif not args.no_semantic:
            checks.append("semantic run skipped: the embedding model is not installed")
        if not args.no_100k:
            from benchmarks.corpus_pool import make_queries

            big = build_100k(workdir / "index-100k")
            rows.append(throughput_run("100k passages, lexical", big, False, make_queries(200), args))
            if args.with_rate_limit:
                rows.append(throughput_run("100k passages, lexical", big, False, make_queries(200), args, 10**6))
        checks += rate_limit_check(lexical_dir, workdir)
    print()
    print(f"faqbot serve --workers 2 (gunicorn sync workers) on 127.0.0.1, {args.seconds} s per row; the load tool "
          f"shares the 2 cores. Question log on; rate limit off unless stated.")
    print_table(rows)
    print()
    for line in checks:
        print(line)


if __name__ == "__main__":
    main()
