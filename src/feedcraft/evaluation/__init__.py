"""L2 evaluation: ranking metrics, splits, MIND prediction files."""

from feedcraft.evaluation.bootstrap import paired_bootstrap
from feedcraft.evaluation.impressions import impression_metrics, per_impression_metrics
from feedcraft.evaluation.prediction_file import (
    metrics_from_predictions,
    ranks_from_scores,
    read_predictions,
    write_predictions,
)
from feedcraft.evaluation.report import format_table
from feedcraft.evaluation.splits import (
    impression_user_split,
    temporal_split,
    user_temporal_split,
)
from feedcraft.evaluation.topn import (
    intra_list_diversity,
    novelty,
    popularity_shares,
    topn_metrics,
    topn_per_user,
)

__all__ = [
    "format_table",
    "impression_metrics",
    "impression_user_split",
    "intra_list_diversity",
    "metrics_from_predictions",
    "novelty",
    "paired_bootstrap",
    "per_impression_metrics",
    "popularity_shares",
    "ranks_from_scores",
    "read_predictions",
    "temporal_split",
    "topn_metrics",
    "topn_per_user",
    "user_temporal_split",
    "write_predictions",
]
