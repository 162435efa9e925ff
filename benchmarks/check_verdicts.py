"""What the verdict-counting scripts share (`numbers_formats.py`, `entities_formats.py`):
faithful pairs from the bundled Wikinews, a guardrail's verdicts by another feedcraft (a copy
of `src` taken before a change), and the table of verdicts that changed between the two.

Each script defines its corpora and probes; the data sets' text goes to the terminal only
(`--show`), never to a results file.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MIND = DATA / "mind-small" / "MINDsmall_train_sample" / "news.tsv.gz"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"

Pairs = dict[str, list[tuple[str, str]]]
Verdicts = dict[str, list[list[Any]]]
Probe = tuple[str, str, bool]


def wikinews_pairs() -> list[tuple[str, str]]:
    """(lead sentence, body) of each bundled Wikinews article."""
    from feedcraft.llm.sentences import split_sentences

    pairs: list[tuple[str, str]] = []
    for line in WIKINEWS.open(encoding="utf-8"):
        body = json.loads(line)["body"]
        if sentences := split_sentences(body):
            pairs.append((sentences[0], body))
    return pairs


def run_elsewhere(script: str, src: Path, *args: str) -> Verdicts:
    """The verdicts `script --emit` prints, run by the feedcraft under `src` in a fresh
    interpreter."""
    command = [sys.executable, script, "--emit", "--src", str(src), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: Verdicts = json.loads(done.stdout)
    return result


def compare(
    after: Verdicts,
    before: Verdicts | None,
    pairs: Pairs,
    probes: Sequence[Probe],
    *,
    show: bool,
) -> dict[str, Any]:
    """Per corpus: items, failures, and against `before` the failures then, the verdicts
    that turned to a pass or a failure and the details that changed; the probes' right
    verdicts. Prints the table (and with `show` each changed verdict) and returns it."""
    table: dict[str, Any] = {}
    width = max(len(name) for name in after) + 2
    heads = ("items", 6), ("fail before", 12), ("fail after", 11), ("+pass", 6), ("+fail", 6)
    print(f"{'corpus':{width}}", *(f"{h:>{w}}" for h, w in heads))
    for name, results in after.items():
        row: dict[str, Any] = {"items": len(results), "failed": sum(not r[0] for r in results)}
        if name == "probes":
            row["right"] = sum(r[0] == p[2] for r, p in zip(results, probes, strict=True))
        if before is not None:
            old = before[name]
            row["failed_before"] = sum(not r[0] for r in old)
            row["now_pass"] = sum(b[0] < a[0] for a, b in zip(results, old, strict=True))
            row["now_fail"] = sum(b[0] > a[0] for a, b in zip(results, old, strict=True))
            row["detail_changed"] = sum(a != b for a, b in zip(results, old, strict=True))
            if name == "probes":
                row["right_before"] = sum(r[0] == p[2] for r, p in zip(old, probes, strict=True))
            if show:
                for (o, s), a, b in zip(pairs[name], results, old, strict=True):
                    if a != b:
                        print(f"--- {name}: {b} -> {a}\n  output: {o}\n  source: {s[:400]}")
        table[name] = row
    for name, row in table.items():
        print(
            f"{name:{width}} {row['items']:>6} {row.get('failed_before', '-'):>12}"
            f" {row['failed']:>11} {row.get('now_pass', '-'):>6} {row.get('now_fail', '-'):>6}"
        )
    if "probes" in table:
        right = table["probes"]
        print(
            f"probes right: {right.get('right_before', '-')} -> {right['right']} of {len(probes)}"
        )
        if show:
            wrong = [p for p, r in zip(probes, after["probes"], strict=True) if r[0] != p[2]]
            for output, source, expected in wrong:
                print(f"  probe wrong (should pass: {expected}): {output!r} <- {source!r}")
    return table


def write_result(out: Path, table: dict[str, Any], **fields: Any) -> None:
    """The table with the hardware and `fields` (what was compared, seconds) as JSON."""
    result = {"hardware": {"machine": platform.machine(), "python": platform.python_version()}}
    result |= fields | {"corpora": table}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def main(
    script: str,
    doc: str,
    default_out: Path,
    verdicts: Callable[[argparse.Namespace], Verdicts],
    corpora: Callable[[argparse.Namespace], Pairs],
    probes: Sequence[Probe],
    *,
    options: Callable[[argparse.ArgumentParser], None] | None = None,
    passed_on: Callable[[argparse.Namespace], list[str]] | None = None,
) -> None:
    """A verdict-counting script's command line: `--before SRC` also runs the check of the
    feedcraft under SRC and counts the verdicts that changed, `--show` prints those items
    (to the terminal only). `options` adds the script's own, and `passed_on` names those the
    run under SRC must get too."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="also run the feedcraft under this path")
    parser.add_argument("--show", action="store_true", help="print the changed verdicts")
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=default_out)
    if options is not None:
        options(parser)
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    if args.emit:
        print(json.dumps(verdicts(args)))
        return
    started = time.perf_counter()
    after = verdicts(args)
    seconds = time.perf_counter() - started
    extra = passed_on(args) if passed_on is not None else []
    before = run_elsewhere(script, args.before, *extra) if args.before else None
    table = compare(after, before, corpora(args), probes, show=args.show)
    fields = {"before": str(args.before) if args.before else None}
    fields |= {"options": extra or None, "seconds_after": round(seconds, 2)}
    write_result(args.out, table, **fields)
