"""Plain-text tables of results ({model: {metric: value}}) for the CLI and benchmarks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def _cell(metric: str, value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if metric.startswith("n_") and float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def format_table(
    results: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] | None = None,
    digits: int = 4,
) -> str:
    """Fixed-width table, one row per model, metrics as columns (first-seen order unless
    `metrics` is given); counts (`n_*`) print as integers, missing or NaN values as '-'."""
    if metrics is None:
        metrics = list(dict.fromkeys(m for row in results.values() for m in row))
    header = ["model", *metrics]
    rows = [
        [model, *(_cell(m, values.get(m), digits) for m in metrics)]
        for model, values in results.items()
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def fmt(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]
    return "\n".join(lines)
