"""Device checks of the fine-tuned model's torch runtime, against what this machine reports."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
import torch

from feedcraft.ctr.torch_runtime import bfloat16_is_native, torch_device


def _cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64",
    reason="reads the x86 CPU flags in /proc/cpuinfo",
)
def test_cpu_bfloat16_follows_the_cpu_flags() -> None:
    """Native exactly when the CPU has bfloat16 instructions (AVX512-BF16 or AMX): the
    slow case, emulation, is what the CPUs of the 2-core machines here have (Zen 3, AVX2)."""
    flags = _cpu_flags()
    assert bfloat16_is_native(torch_device("cpu")) == bool({"avx512_bf16", "amx_tile"} & flags)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bfloat16_is_what_torch_reports() -> None:
    assert bfloat16_is_native(torch_device("cuda")) == torch.cuda.is_bf16_supported()
