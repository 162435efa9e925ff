"""A writer process killed holding its claim: how long the process waiting for its text waits.

Two real processes on one SQLite store miss the same summary. The writer takes the entry's
claim (`[llm] claim_s`, default 30 s, renewed every third of that) and is SIGKILLed in its
model run (as by the OOM killer) a second after the waiter began polling; its supervisor
reaps it. The earlier code let the waiter find out only by the claim's lapse; the new one
sees that the owner's pid is gone on this kernel and in this pid namespace, and takes the
claim over. Measured: seconds from the kill until the waiter has its text (its own model run
included: the extractive summariser, `run_s`), per trial and mean.

    .venv/bin/python benchmarks/claim_takeover.py --before /tmp/before/src

The two codes run one after the other on copies of one store (the bundled Wikinews sample),
a new item per trial so that each starts cold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from feedcraft.config import load_settings
from feedcraft.services.ingestion import import_jsonl
from feedcraft.storage import open_store
from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "claim_takeover.json"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews"

# One process of either role. CLOCK_MONOTONIC is the system's, so the parent compares the
# waiter's `done` with the moment it killed the writer.
_CHILD = r"""
import json, sys, time
from pathlib import Path
from feedcraft.config import load_settings
from feedcraft.embeddings import HashingEncoder
from feedcraft.llm import Generator
from feedcraft.services.generation import GenerationService
from feedcraft.storage import open_store

url, item, role, signals, claim_s = sys.argv[1:6]
signals = Path(signals)

class Stuck(Generator):
    def run(self, task):
        (signals / "entered").touch()
        time.sleep(3600)  # killed here, holding the claim

settings = load_settings(
    store=url, embedding={"model": "hashing"}, progress=False,
    llm={"backend": "extractive", "claim_s": float(claim_s)},
)
encoder = HashingEncoder(256)
generator = (Stuck if role == "writer" else Generator)(None, encoder)
service = GenerationService(open_store(url), settings, encoder, generator=generator)
service.warm()  # as `serve --warm-generation`: the waiter's run is then a served one
(signals / f"{role}.asking").touch()
out = service.summary(item)
print(json.dumps({
    "done": time.monotonic(), "hit": out.cache_hit, "fallback": out.fallback,
    "run_s": out.generation_seconds,
}))
"""


def _start(src: str | None, args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{path.name}: the process ended: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} never appeared")
        time.sleep(0.01)


def trial(db: Path, item: str, src: str | None, claim_s: float, work: Path) -> dict[str, Any]:
    """One kill: the writer enters its run, the waiter asks and polls for a second, the
    writer is SIGKILLed (and reaped); seconds until the waiter has its text."""
    signals = work / "signals"
    shutil.rmtree(signals, ignore_errors=True)
    signals.mkdir(parents=True)
    where, rest = [f"sqlite:///{db}", item], [str(signals), str(claim_s)]
    writer = _start(src, [*where, "writer", *rest])
    waiter: subprocess.Popen[str] | None = None
    try:
        _wait_for(signals / "entered", writer)
        claimed = time.monotonic()
        waiter = _start(src, [*where, "waiter", *rest])
        _wait_for(signals / "waiter.asking", waiter)
        time.sleep(1.0)  # the waiter missed the cache and polls the writer's claim
        if waiter.poll() is not None:
            raise RuntimeError(f"the waiter did not wait: {waiter.communicate()}")
        killed = time.monotonic()
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        out, err = waiter.communicate(timeout=claim_s * 3 + 60)
        if waiter.returncode != 0:
            raise RuntimeError(f"the waiter failed: {err[-2000:]}")
    finally:
        for proc in (writer, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    answer = json.loads(out)
    return {
        "item": item,
        "claim_age_at_kill_s": round(killed - claimed, 3),
        "kill_to_text_s": round(answer["done"] - killed, 3),
        "run_s": round(answer["run_s"], 3),
        "cache_hit": answer["hit"],
        "fallback": answer["fallback"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the earlier code")
    parser.add_argument("--now", default=None, help="src/ of the new code (default: installed)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--claim-s", type=float, default=30.0, help="[llm] claim_s")
    parser.add_argument(
        "--names", default="lapse only (before),take-over (now)", help="of the two codes"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    before, now = args.names.split(",")
    variants = {before: args.before, now: args.now}
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        store = open_store(load_settings(store=f"sqlite:///{source}", progress=False).store)
        try:
            import_jsonl(store, WIKINEWS, progress=False)
            items = [
                i
                for i in store.catalogue.ids(include_stubs=False)
                if len(store.catalogue.get(i).body.split()) >= 30
            ][: args.trials]
        finally:
            store.close()
        for name, src in variants.items():
            db = Path(tmp) / f"{len(runs)}.db"
            shutil.copyfile(source, db)
            for item in items:
                runs.append({"code": name, **trial(db, item, src, args.claim_s, Path(tmp))})
                print(json.dumps(runs[-1]))
    rows = []
    for name in variants:
        mine = [r for r in runs if r["code"] == name]
        rows.append(
            {
                "code": name,
                "trials": len(mine),
                "kill_to_text_mean_s": statistics.mean(r["kill_to_text_s"] for r in mine),
                "kill_to_text_max_s": max(r["kill_to_text_s"] for r in mine),
                "waiter_run_mean_s": statistics.mean(r["run_s"] for r in mine),
                "waiter_wrote_it": sum(not r["cache_hit"] for r in mine),
            }
        )
    print(
        f"\nwriter SIGKILLed holding its claim, [llm] claim_s = {args.claim_s:g} s, "
        f"{args.trials} trials per code, extractive summaries\n"
    )
    print("| code | trials | kill -> waiter's text, mean s | max s | waiter's own run, mean s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['code']} | {r['trials']} | {r['kill_to_text_mean_s']:.2f} "
            f"| {r['kill_to_text_max_s']:.2f} | {r['waiter_run_mean_s']:.3f} |"
        )
    out = {"hardware": hardware(), "claim_s": args.claim_s, "items": items}
    out |= {"rows": rows, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
