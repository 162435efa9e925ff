"""`score-headlines` on CSVs of growing size: peak memory and seconds, before and after.

Scoring held a whole CSV in memory (its records, then the whole output text): about 7x the
file's size. It now streams the file twice (check, then score chunk by chunk into a temporary
file), so memory should stay flat in the file's size. Rows are real: the Upworthy archive's
headlines and excerpts, repeated with a running number so no two rows are equal.

Each (code, size) runs in a fresh process (`--before` puts that code first on the path). The
model is a small conditional logit on the hashing encoder, so that the CSV handling, not the
sentence model, is what is measured; memory is tracemalloc's peak during scoring and the
process's peak resident size:

    git worktree add /tmp/csv_before <commit before the change>
    .venv/bin/python benchmarks/score_csv_memory.py --before /tmp/csv_before/src
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from server_start import hardware

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "score_csv_memory.json"
UPWORTHY = REPO.parent / "shared" / "data" / "upworthy-archive"

CHILD = """
import json, resource, sys, time, tracemalloc
from pathlib import Path
try:
    from feedcraft.services.headline_csv import score_csv
except ImportError:  # the code before: scoring lived beside training
    from feedcraft.services.headlines import score_csv
from feedcraft.services.headlines import load_headline_model
model_path, in_csv, out_csv = sys.argv[1:4]
model, name = load_headline_model(path=Path(model_path))
tracemalloc.start()
start = time.perf_counter()
report = score_csv(model, in_csv, out_csv, model_name=name)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak / 2**20, "rss_mb": rss, "rows": report.rows}))
"""


def run(src: str | None, model: Path, in_csv: Path, out_csv: Path) -> dict[str, Any]:
    code = "import sys; sys.path[:0] = " + json.dumps([src] if src else []) + "\n" + CHILD
    out = subprocess.run(
        [sys.executable, "-c", code, str(model), str(in_csv), str(out_csv)],
        capture_output=True,
        text=True,
        check=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def archive_rows() -> list[tuple[str, str]]:
    path = next(UPWORTHY.glob("upworthy_exploratory_*.csv.gz"))
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return [(r["headline"], r["excerpt"]) for r in csv.DictReader(f) if r["headline"]]


def write_csv(path: Path, pool: list[tuple[str, str]], size: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "headline", "excerpt"])
        for i in range(size):
            headline, excerpt = pool[i % len(pool)]
            writer.writerow([i, f"{headline} ({i})", excerpt])


def train_model(directory: Path) -> Path:
    from feedcraft.ctr import HeadlineClickModel
    from feedcraft.services.headlines import train_headline_model

    path = next(UPWORTHY.glob("upworthy_exploratory_*.csv.gz"))
    out = directory / "model.pkl"
    small = HeadlineClickModel(encoder="hashing", fields=("headline", "excerpt"), max_iter=50)
    train_headline_model(path, out=out, encoder="hashing", progress=False, model=small)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="src/ of the earlier code")
    parser.add_argument("--sizes", default="10000,100000,400000")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    pool = archive_rows()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        model = train_model(directory)
        for size in (int(s) for s in args.sizes.split(",")):
            in_csv = directory / f"in_{size}.csv"
            write_csv(in_csv, pool, size)
            mb = in_csv.stat().st_size / 2**20
            for code, src in (("before", args.before), ("now", None)):
                result = run(src, model, in_csv, directory / "out.csv")
                rows.append({"code": code, "rows": size, "file_mb": mb, **result})
                print(json.dumps(rows[-1]))
    print("\nscore_csv, conditional logit on the hashing encoder\n")
    print(
        "| rows | file MB | code | seconds (vs before) | traced peak MB (vs before) | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        base = next(x for x in rows if x["rows"] == r["rows"])
        print(
            f"| {r['rows']:,} | {r['file_mb']:.1f} | {r['code']} | {r['seconds']:.2f} "
            f"({r['seconds'] / base['seconds']:.3f}x) | {r['peak_mb']:.1f} "
            f"({r['peak_mb'] / base['peak_mb']:.3f}x) | {r['rss_mb']:.0f} |"
        )
    out = {"hardware": hardware(), "rows": rows}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
