"""Build the bundled Wikinews sample (src/feedcraft/sample/wikinews/items.jsonl).

Reads ../shared/data/wikinews-sample/en_wikinews_101.jsonl.gz (CC BY 2.5, Wikinews), strips
wiki markup with feedcraft's cleaner and writes feedcraft's generic JSON Lines item format.
Run once by a maintainer; the output is committed with its attribution.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from feedcraft.text.clean import clean_text

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "data" / "wikinews-sample" / "en_wikinews_101.jsonl.gz"
OUT = REPO / "src" / "feedcraft" / "sample" / "wikinews" / "items.jsonl"


def main() -> int:
    rows = []
    with gzip.open(SOURCE, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            art = json.loads(line)
            paragraphs = [clean_text(p) for p in art["wikitext_paragraphs"]]
            body = "\n\n".join(p for p in paragraphs if p)
            published = (
                datetime.strptime(art["date"], "%B %d, %Y").replace(tzinfo=UTC).isoformat()
                if art.get("date")
                else None
            )
            title = art["title"].strip()
            rows.append(
                {
                    "id": f"wikinews-{n:03d}",
                    "title": title,
                    "body": body,
                    "kind": "article",
                    "category": art["categories"][0] if art["categories"] else "",
                    "tags": art["categories"][1:],
                    "language": "en",
                    "published_at": published,
                    "provider": "Wikinews",
                    "attributes": {
                        "url": "https://en.wikinews.org/wiki/" + quote(title.replace(" ", "_")),
                        "licence": "CC BY 2.5",
                    },
                }
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} items to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
