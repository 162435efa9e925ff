"""bfloat16 matrix products on this CPU: float32, torch's own bfloat16, and bfloat16 through
float32 products (`ctr.torch_runtime.bfloat16_products`), side by side in one run.

Each row times one linear layer's forward and backward pass under bfloat16 autocast (float32
for the first column) at the fine-tuned headline models' shapes: a batch of 16 tests' texts
(~60 texts of ~20 tokens, 1,200 token rows) through MiniLM's and gemma3-270m's projections.
Where the CPU has bfloat16 instructions (AVX512-BF16, AMX) the context is a no-op and the last
two columns agree; where it has not, torch's bfloat16 products are the slow path this avoids.
The error column is the largest gap between the two bfloat16 results, in units of the largest
output (one bfloat16 rounding step is 2^-8 = 0.0039).

    python benchmarks/bfloat16_products.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedcraft.ctr.torch_runtime import bfloat16_products, torch_device
from headline_finetune_sweep import hardware

SHAPES = {  # (in, out) of each projection
    "MiniLM attention (384->384)": (384, 384),
    "MiniLM feed-forward (384->1536)": (384, 1536),
    "MiniLM feed-forward (1536->384)": (1536, 384),
    "gemma3 query (640->1024)": (640, 1024),
    "gemma3 feed-forward (640->2048)": (640, 2048),
    "gemma3 feed-forward (2048->640)": (2048, 640),
}


def timed(step: Any, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=1200, help="token rows per batch")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/bfloat16_products.json"))
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    cpu = torch_device("cpu")
    out: dict[str, Any] = {"hardware": hardware("cpu", args.threads), "rows": args.rows}
    print(f"bfloat16 native here: {out['hardware']['bfloat16_native']}")
    print(
        "\n| layer, forward + backward | float32 ms | torch bfloat16 ms | via float32 ms "
        "| torch bf16 / float32 | via float32 / float32 | gap |\n|---|---|---|---|---|---|---|"
    )
    results = {}
    for name, (n_in, n_out) in SHAPES.items():
        torch.manual_seed(0)
        layer = torch.nn.Linear(n_in, n_out)
        x = torch.randn(args.rows, n_in, requires_grad=True)

        def step(reduced: bool, layer: Any = layer, x: Any = x) -> Any:
            layer.zero_grad()
            x.grad = None
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=reduced):
                y = layer(x)
            y.float().square().mean().backward()
            return y.detach().float()

        def products(layer: Any = layer, x: Any = x) -> Any:
            with bfloat16_products(cpu):
                return step(True)

        t32 = timed(lambda: step(False), args.repeats)
        own = timed(lambda: step(True), args.repeats)
        via = timed(products, args.repeats)
        reference, ours = step(True), products()
        gap = float((ours - reference).abs().max() / reference.abs().max())
        results[name] = {"float32_s": t32, "torch_bfloat16_s": own, "via_float32_s": via}
        results[name]["gap"] = gap
        print(
            f"| {name} | {t32 * 1e3:.1f} | {own * 1e3:.1f} | {via * 1e3:.1f} "
            f"| {own / t32:.2f} | {via / t32:.2f} | {gap:.4f} |",
            flush=True,
        )
    out["layers"] = results
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
