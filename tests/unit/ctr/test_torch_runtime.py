"""Device checks of the fine-tuned model's torch runtime, against what this machine reports."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from feedcraft.ctr.torch_runtime import bfloat16_is_native, bfloat16_products, torch_device


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


class _Products(TorchDispatchMode):
    """Records the operand dtypes of every matrix product that reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, set[torch.dtype]]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = func.overloadpacket.__name__
        if name in ("mm", "addmm", "bmm", "baddbmm"):
            self.seen.append((name, {a.dtype for a in args if isinstance(a, torch.Tensor)}))
        return func(*args, **(kwargs or {}))


def _products(bf16: torch.dtype) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 96, generator=g), torch.randn(96, 48, generator=g)
    c, x = torch.randn(64, 48, generator=g), torch.randn(3, 8, 16, generator=g)
    y = torch.randn(3, 16, 4, generator=g)
    z = torch.randn(3, 8, 4, generator=g)
    a, b, c, x, y, z = (t.to(bf16) for t in (a, b, c, x, y, z))
    return {
        "mm": a @ b,
        "addmm": torch.addmm(c, a, b),
        "bmm": torch.bmm(x, y),
        "baddbmm": torch.baddbmm(z, x, y, alpha=0.5),
    }


def test_bfloat16_products_run_in_float32_where_bfloat16_is_emulated() -> None:
    """Inside the context, where the CPU lacks bfloat16 instructions, every bfloat16 product
    reaches the kernels as float32 (the spy sits below the context), its result is bfloat16
    and agrees with torch's own bfloat16 product to rounding; where native, nothing changes."""
    cpu = torch_device("cpu")
    spy = _Products()
    own = _products(torch.bfloat16)
    with spy, bfloat16_products(cpu):
        ours = _products(torch.bfloat16)
    expected = {torch.bfloat16} if bfloat16_is_native(cpu) else {torch.float32}
    assert sorted(name for name, _ in spy.seen) == sorted(own)
    assert all(dtypes == expected for _, dtypes in spy.seen), spy.seen
    for name, result in ours.items():
        assert result.dtype == torch.bfloat16
        reference = own[name].float()
        gap = (result.float() - reference).abs().max() / reference.abs().max()
        assert gap <= 2**-7, name  # one bfloat16 rounding step at most


def test_bfloat16_products_reach_backward_passes_and_leave_float32_alone() -> None:
    """An autocast linear layer's gradients come through the context too (it sits below
    autograd), close to torch's own; float32 products are computed bit for bit as without it;
    not `enabled`, it is a no-op."""
    cpu = torch_device("cpu")
    torch.manual_seed(0)
    layer, x = torch.nn.Linear(32, 16), torch.randn(20, 32)

    def grads() -> torch.Tensor:
        layer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = layer(x)
        assert out.dtype == torch.bfloat16
        out.float().square().sum().backward()
        assert layer.weight.grad is not None
        return layer.weight.grad.clone()

    own = grads()
    spy = _Products()
    with spy, bfloat16_products(cpu):
        ours = grads()
    if not bfloat16_is_native(cpu):
        # the forward product, then the weight gradient's (x needs none)
        assert spy.seen == [("addmm", {torch.float32}), ("mm", {torch.float32})]
    assert torch.allclose(ours, own, rtol=0.05, atol=0.05 * float(own.abs().max()))
    a, b = torch.randn(50, 40), torch.randn(40, 30)
    with bfloat16_products(cpu):
        assert torch.equal(a @ b, a @ b)
        inside = a @ b
    assert torch.equal(inside, a @ b)
    spy = _Products()
    with spy, bfloat16_products(cpu, enabled=False):
        _products(torch.bfloat16)
    assert all(d == {torch.bfloat16} for _, d in spy.seen)
