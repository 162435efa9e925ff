"""Where and on how many threads torch runs for the fine-tuned model: a device spec checked
against this machine, whether bfloat16 is native there (and its matrix products where it is
not), and torch's thread count set for a block."""

from __future__ import annotations

from typing import Any

from feedcraft.errors import InvalidInput

__all__ = [
    "TorchThreads",
    "bfloat16_is_native",
    "bfloat16_products",
    "scoring_device",
    "torch_device",
]


def scoring_device(spec: str) -> Any:
    """`spec` where this machine has it, else the CPU: a model trained on a GPU box is usually
    served elsewhere, and its stored weights are device-free."""
    import torch

    try:
        cuda = torch.device(spec).type == "cuda"
    except (RuntimeError, TypeError):
        cuda = False  # not a device at all: torch_device says so
    if cuda and not torch.cuda.is_available():
        return torch.device("cpu")
    return torch_device(spec)


def torch_device(spec: str) -> Any:
    """`spec` as a torch device, refused early when this machine lacks it."""
    import torch

    try:
        device = torch.device(spec)
    except (RuntimeError, TypeError) as exc:
        raise InvalidInput(f"not a torch device: {spec!r} ({exc})", field="device") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInput(
                f"{spec!r} asked for, but torch sees no CUDA device here; use 'cpu'",
                field="device",
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InvalidInput(
                f"{spec!r} asked for, but torch sees {torch.cuda.device_count()} CUDA device(s)",
                field="device",
            )
    elif device.type != "cpu":
        raise InvalidInput(f"only 'cpu' and 'cuda[:N]' are supported, not {spec!r}", field="device")
    return device


def bfloat16_is_native(device: Any) -> bool:
    """Whether bfloat16 arithmetic runs in hardware on `device` (a torch device). On a CPU
    without AVX512-BF16 or AMX, torch emulates it, and its bfloat16 matrix products are ~12x
    slower than float32 ones (benchmarks/README.md): `bfloat16_products` is the way round."""
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    cpu = torch.cpu  # the instruction checks torch's own kernels dispatch on
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):  # an older torch, or not an x86 CPU
        return False


def bfloat16_products(device: Any, enabled: bool = True) -> Any:
    """A context in which bfloat16 matrix products on `device` (a torch device) run at
    float32's speed, forward and backward: where bfloat16 is not native on a CPU, torch's own
    bfloat16 products run ~12x slower than float32 ones (`headline_precision.py`), so there
    they run in float32 instead: operands widened (exactly), float32 products and sums, the
    result rounded to bfloat16, the arithmetic AVX512-BF16's dot products do. Elsewhere, for
    every other operation, and when not `enabled`, a no-op."""
    import contextlib

    if enabled and device.type == "cpu" and not bfloat16_is_native(device):
        return _float32_products()
    return contextlib.nullcontext()


_PRODUCTS = ("mm", "addmm", "bmm", "baddbmm")


def _float32_products() -> Any:
    """A dispatch mode (below autograd, so backward passes go through it too) that computes
    bfloat16 matrix products in float32 and rounds the result back to bfloat16."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    ops = {getattr(torch.ops.aten, name).default for name in _PRODUCTS}
    bf16 = torch.bfloat16

    class Float32Products(TorchDispatchMode):
        def __torch_dispatch__(
            self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
        ) -> Any:
            kwargs = kwargs or {}
            if func in ops and all(a.dtype == bf16 for a in args if isinstance(a, torch.Tensor)):
                wide = [a.float() if isinstance(a, torch.Tensor) else a for a in args]
                return func(*wide, **kwargs).to(bf16)
            return func(*args, **kwargs)

    return Float32Products()


class TorchThreads:
    """Sets torch's thread count for a block (None: leaves it) and puts the old one back."""

    def __init__(self, n: int | None) -> None:
        self.n = n
        self.before = 0

    def __enter__(self) -> None:
        import torch

        self.before = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        import torch

        if self.n is not None:
            torch.set_num_threads(self.before)
