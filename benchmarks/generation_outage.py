"""Summaries while the model's server is down: how long does each request wait?

A user's model runs in a server of its own (llama.cpp's, Ollama, vLLM) and the API asks it over
HTTP. When that server is down every summary the cache lacks is served the extractive fallback,
or, for a reader, the item's summary for no particular reader where a batch wrote one. Before
the breaker (`llm/breaker`, `[llm] down_retry_s`) each such request first asked the dead server
again: its tries and the backoff between them when the port refuses connections, its timeouts
when the server hangs. With it, the first request finds the outage and the others are answered
at once until `down_retry_s` is over, when one request tries the server again.

The run: a real llama.cpp server (`python -m feedcraft.llm.local_server`, SmolLM2) writes the
summaries for no particular reader of half the items, through `feedcraft serve` (as a nightly
`feedcraft generate batch` would), then stops. Then `--clients` clients each ask, one request
after another, alternately for a reader's summary of an item with a summary for anyone and
for an anonymous summary of an item without one. Two outages: "refused" (nothing listens on
the port) and "hung" (a listener accepts connections and never answers). Each with
`down_retry_s` 0 (the code before: every request asks the server) and the default, side by
side on copies of one store, real `feedcraft serve` processes. A try's timeout is cut to
`--timeout` seconds (default 5; the shipped default is 60, 120 s a call in all), so the hung
runs finish; with the shipped defaults each request before waited up to 120 s.

    .venv/bin/python benchmarks/generation_outage.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feedcraft.config import LLMSettings
from server_start import (
    copy_store,
    free_port,
    get,
    hardware,
    items_with_text,
    mind_store,
    readers_with_interests,
    served,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "generation_outage.json"
OUTAGES = ("refused", "hung")


@contextmanager
def model_server(port: int, model: str) -> Iterator[str]:
    """llama.cpp's server engine on `port`, in its own process; its URL once loaded."""
    cmd = [sys.executable, "-m", "feedcraft.llm.local_server", "--model", model]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"the model server did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextmanager
def hung_listener(port: int) -> Iterator[list[socket.socket]]:
    """A port that accepts connections and never answers; the accepted ones, as they come."""
    accepted: list[socket.socket] = []
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield accepted
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def run_once(
    db: Path,
    url: str,
    work: list[list[tuple[str, str | None]]],
    retry_s: float,
    timeout: float,
) -> dict[str, Any]:
    """Each client's requests, one after another, the clients at once; each answer's kind."""
    env = {
        "FEEDCRAFT_LLM__DOWN_RETRY_S": str(retry_s),
        "FEEDCRAFT_LLM__TIMEOUT_S": str(timeout),
        "FEEDCRAFT_LLM__TOTAL_TIMEOUT_S": str(3 * timeout),
    }
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()
    with served(db, url, env=env) as (_, base):

        def client(requests: list[tuple[str, str | None]]) -> None:
            for item, reader in requests:
                start = time.perf_counter()
                out = get(f"{base}/items/{item}/summary" + (f"?user_id={reader}" if reader else ""))
                error = out.get("backend_error") or ""
                with lock:
                    answers.append(
                        {
                            "s": time.perf_counter() - start,
                            "reader": reader is not None,
                            "fallback": out["fallback"],
                            "for_anyone": "no particular reader" in error,
                            "refused": "tried again in" in error or "trying it again" in error,
                            "down": bool(error),
                        }
                    )

        threads = [threading.Thread(target=client, args=(w,)) for w in work]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    if len(answers) != sum(len(w) for w in work):
        raise RuntimeError("a summary request failed")
    return {"answers": answers, "wall_s": wall}


def summarise(outage: str, retry_s: float, run: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"outage": outage, "down_retry_s": retry_s}
    for who, want in (("reader", True), ("anonymous", False)):
        seen = sorted(a["s"] for a in run["answers"] if a["reader"] is want)
        row[f"{who}_median_s"] = statistics.median(seen)
        row[f"{who}_max_s"] = seen[-1]
    row["for_anyone"] = sum(a["for_anyone"] for a in run["answers"])
    row["fallbacks"] = sum(a["fallback"] for a in run["answers"])
    row["refused"] = sum(a["refused"] for a in run["answers"])
    row["answers"] = len(run["answers"])
    row["connections"] = run.get("connections")
    row["wall_s"] = run["wall_s"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=8, help="requests each, alternating")
    parser.add_argument("--timeout", type=float, default=5.0, help="[llm] timeout_s of a try")
    parser.add_argument("--model", default="smollm2", help="the model server's weights")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", action="store_true", help="print the table of --out only")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.out.read_text())
        report(saved["rows"], saved["clients"], saved["per_client"], saved["timeout"])
        return
    default_retry = LLMSettings().down_retry_s
    n = args.clients * args.per_client // 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        mind_store(source)
        items = items_with_text(source, 2 * n)
        readers = readers_with_interests(source, n)
        with_anyone, without = items[:n], items[n:]
        port = free_port()
        start = time.perf_counter()
        with model_server(port, args.model) as url, served(source, url) as (_, base):
            written = [get(f"{base}/items/{i}/summary") for i in with_anyone]
        by_model = sum(not w["fallback"] for w in written)
        print(f"wrote {n} summaries for anyone ({by_model} by the model) in ", end="")
        print(f"{time.perf_counter() - start:.0f} s; the model server is now stopped")
        pairs: list[tuple[str, str | None]] = [
            pair for k in range(n) for pair in ((with_anyone[k], readers[k]), (without[k], None))
        ]
        work = [pairs[c :: args.clients] for c in range(args.clients)]
        for outage in OUTAGES:
            for retry_s in (0.0, default_retry):
                run_dir = Path(tmp) / f"{outage}-{retry_s:g}"
                db = copy_store(source, run_dir)
                if outage == "hung":
                    with hung_listener(port) as accepted:
                        run = run_once(db, url, work, retry_s, args.timeout)
                        run["connections"] = len(accepted)
                else:
                    run = run_once(db, url, work, retry_s, args.timeout)
                shutil.rmtree(run_dir)
                rows.append(summarise(outage, retry_s, run))
                print(json.dumps(rows[-1]))
    report(rows, args.clients, args.per_client, args.timeout)
    out = {"hardware": hardware(), "clients": args.clients, "per_client": args.per_client}
    out |= {"timeout": args.timeout, "model": args.model, "rows": rows, "items": items}
    out |= {"readers": readers, "written_by_model": by_model}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


def report(rows: list[dict[str, Any]], clients: int, per_client: int, timeout: float) -> None:
    print(
        f"\n{clients} clients x {per_client} summaries each, one after another, while the "
        f"model's server is down (a try's timeout {timeout:g} s); half are readers' summaries "
        "of items with one for anyone cached, half anonymous of items without\n"
    )
    print(
        "| outage | down_retry_s | reader median / max s | anonymous median / max s "
        "| for anyone | fallbacks | refused by the breaker | server connections | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        conns = "-" if r["connections"] is None else str(r["connections"])
        print(
            f"| {r['outage']} | {r['down_retry_s']:g} "
            f"| {r['reader_median_s']:.2f} / {r['reader_max_s']:.2f} "
            f"| {r['anonymous_median_s']:.2f} / {r['anonymous_max_s']:.2f} "
            f"| {r['for_anyone']} | {r['fallbacks']} | {r['refused']} | {conns} "
            f"| {r['wall_s']:.1f} |"
        )
    for outage in OUTAGES:
        before, now = (r for r in rows if r["outage"] == outage)
        print(
            f"{outage}: wall {now['wall_s'] / before['wall_s']:.2f}x, reader median "
            f"{now['reader_median_s'] / before['reader_median_s']:.3f}x, anonymous median "
            f"{now['anonymous_median_s'] / before['anonymous_median_s']:.3f}x"
        )


if __name__ == "__main__":
    main()
