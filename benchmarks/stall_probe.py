"""Where an HTTP answer's stalls come from: `faqbot serve` with probes, question log on and off, taking turns.

    python benchmarks/stall_probe.py [--size 20000] [--runs 3] [--seconds 30] [--workers 2]

One client sends questions one after another (a new connection each, as through a proxy) and
counts answers slower than 20 ms. The server is the real one (`faqbot serve`, gunicorn sync
workers, question log buffered and written once a second) with probes added in each worker: the
wall and CPU time of every answer inside the app (FastAsk), each question-log write
(QuestionLog.flush), each garbage collection and each slow gunicorn heartbeat (os.utime on a
temporary file, once a request: it can wait on the disk's journal). A stall the client saw is then
matched against the windows of those events, by the machine's monotonic clock. The index is
speed_ab.py's cached one of this checkout (benchmarks/.cache/ab-this-<size>/, built if missing).
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STALL = 0.020  # seconds: an answer slower than this is a stall


def serve_with_probes(index_dir: str, port: int, workers: int, out_dir: str) -> None:
    """In the server process: add the probes, then run `faqbot serve` (each worker writes its probes at exit)."""
    import gc
    import threading

    from gunicorn.workers import workertmp

    from faqbot.config import load_settings
    from faqbot.ops import qlog
    from faqbot.serve import fast_ask, server

    events: dict[str, list] = {"answer": [], "flush": [], "gc": [], "heartbeat": []}

    def timed(owner, name: str, kind: str, keep=lambda wall: True):
        original = getattr(owner, name)

        def probe(*args, **kwargs):
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                wall = time.perf_counter() - started
                if keep(wall):
                    events[kind].append((started, wall, time.thread_time() - cpu))
        setattr(owner, name, probe)

    timed(fast_ask.FastAsk, "__call__", "answer")
    timed(qlog.QuestionLog, "flush", "flush")
    timed(workertmp.WorkerTmp, "notify", "heartbeat", keep=lambda wall: wall > 0.002)

    def on_gc(phase, info):
        if phase == "start":
            events["gc"].append([time.perf_counter(), 0.0, info["generation"]])
        elif events["gc"]:
            events["gc"][-1][1] = time.perf_counter() - events["gc"][-1][0]
    gc.callbacks.append(on_gc)

    write_log = server._write_question_log

    def dump_at_exit(app):
        inner = write_log(app)

        def worker_exit(srv, worker):
            inner(srv, worker)
            events["threads"] = [t.name for t in threading.enumerate()]
            Path(out_dir, f"probe-{os.getpid()}.json").write_text(json.dumps(events))
        return worker_exit
    server._write_question_log = dump_at_exit
    server.run_server(load_settings({"index_dir": index_dir, "host": "127.0.0.1", "port": port, "workers": workers}))


def probe_run(index_dir: Path, question_log: bool, seconds: float, workers: int) -> dict:
    """One server, one sequential client for `seconds`; the stalls and the server events they overlap."""
    from corpus_pool import make_queries
    from load import Server, request

    questions = make_queries(200)
    with tempfile.TemporaryDirectory(prefix="faqbot-stalls-") as tmp:
        env = {"FAQBOT_SEMANTIC": "0", "FAQBOT_RATE_LIMIT": "0", "FAQBOT_LOG_QUESTIONS": "1" if question_log else "0",
               "FAQBOT_QUESTION_LOG": f"{tmp}/questions.sqlite"}
        server = Server(index_dir, env, Path(tmp), workers)
        server.args = [sys.executable, __file__, "--serve", str(index_dir), str(server.port), str(workers), tmp]
        with server:  # up when both workers are; SIGTERM at the end (the workers then write their probes)
            for q in questions[:50]:
                request(server.port, "POST", "/api/ask", {"question": q})
            load_avg = os.getloadavg()[0]
            answers = []
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                body = json.dumps({"question": questions[len(answers) % len(questions)]}).encode()
                sent = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                conn.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
                conn.getresponse().read()
                conn.close()
                answers.append((sent, time.perf_counter() - sent))
        probes = [json.loads(Path(p).read_text()) for p in glob.glob(f"{tmp}/probe-*.json")]
    events = {kind: [e for p in probes for e in p[kind] if e[0] >= started] for kind in ("answer", "flush", "gc", "heartbeat")}
    stalls = [(t, wall) for t, wall in answers if wall > STALL]

    def overlapping(kind: str) -> int:
        return sum(any(t0 < t + wall and t < t0 + w0 for t0, w0, *_ in events[kind]) for t, wall in stalls)

    walls = sorted(wall for _, wall in answers)
    return {"log": question_log, "load": load_avg, "answers": len(answers),
            "p50": walls[len(walls) // 2] * 1000, "p99": walls[int(len(walls) * 0.99)] * 1000, "max": walls[-1] * 1000,
            "stalls": len(stalls), "in_app": sum(1 for e in events["answer"] if e[1] > STALL),
            "flush": overlapping("flush"), "gc": overlapping("gc"), "heartbeat": overlapping("heartbeat"),
            "flush_max": max([e[1] for e in events["flush"]] or [0]) * 1000,
            "flush_cpu_max": max([e[2] for e in events["flush"]] or [0]) * 1000,
            "gc2": sum(1 for e in events["gc"] if e[2] == 2)}


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--serve"]:
        sys.path.insert(0, str(REPO))
        serve_with_probes(*sys.argv[2:4], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="runs with the question log on, and as many off")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
    from speed import child_build

    index_dir = REPO / "benchmarks" / ".cache" / f"ab-this-{args.size}"
    if not (index_dir / "manifest.json").exists():
        child_build(args.size, str(index_dir))
    rows = []
    for n in range(args.runs):
        for question_log in ((True, False) if n % 2 == 0 else (False, True)):
            rows.append(probe_run(index_dir, question_log, args.seconds, args.workers))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"\n{args.size} passages, {args.workers} workers, one client, {args.seconds:.0f} s a run, question log on and "
          f"off taking turns; a stall is an answer over {STALL * 1000:.0f} ms; the last three columns: stalls during "
          f"a question-log write, a garbage collection, a slow (> 2 ms) gunicorn heartbeat\n")
    print("| question log | load avg | answers | p50 ms | p99 ms | max ms | stalls | slow inside the app | "
          "log write max ms (CPU) | full GCs | in a log write | in a GC | in a heartbeat |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {'on' if r['log'] else 'off'} | {r['load']:.1f} | {r['answers']} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['max']:.1f} | {r['stalls']} | {r['in_app']} | {r['flush_max']:.1f} ({r['flush_cpu_max']:.1f}) | "
              f"{r['gc2']} | {r['flush']} | {r['gc']} | {r['heartbeat']} |")


if __name__ == "__main__":
    main()
