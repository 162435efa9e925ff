"""A headline click model that fine-tunes the sentence encoder itself on A/B tests.

The conditional logit of `HeadlineClickModel` is linear in frozen MiniLM vectors, and on
held-out weeks it stays near 0.59 pairwise accuracy: the frozen vectors do not hold what makes
one wording of a story draw more clicks than another. Here the top transformer layers of MiniLM
are trained end to end with the same likelihood (inside a test each click goes to variant i with
probability proportional to impressions_i * exp(f(headline_i))), so the text representation
itself can move towards what the randomised comparisons identify.

To make epochs affordable on a CPU, the lower layers stay frozen and their token states are
computed once per distinct headline; only the top `trainable_layers` layers, the mean pooling
and a linear head run forward and backward (`ctr.backbone`). The head starts from the frozen
conditional logit (epoch 0 is exactly `HeadlineClickModel(fields=("headline",),
lexical=False)`), so training starts from the linear model and only has to improve on it. With
a validation set, `fit` keeps the epoch that scored best on it (epoch 0 included).

On held-out Upworthy weeks it is the first model clearly ahead of the shipped linear one
(pairwise accuracy 0.619 on average over five seeds with the between-test loss, against 0.590;
benchmarks/README.md, `headline_finetune.py`), at the price of a ~7 minute fit on two CPU cores
(`precision="bfloat16"` cuts that where the CPU has bfloat16 instructions; `headline_precision.py`)
and a 43 MB artifact when all six layers train. All twelve layers of all-mpnet-base-v2, trained
on a GPU (`device="cuda"`, ~40 s on an H200), reach 0.638 (mean of five seeds;
`headline_finetune_sweep.py`).

Only the trained part is stored (as `state_dict` bytes, so the model pickles without torch
objects); the frozen lower layers are read from the encoder package again when scoring, and a
different package (another fingerprint) is refused rather than silently mixed.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from tqdm import tqdm

from feedcraft.ctr.backbone import (
    load_backbone,
    lower_states,
    make_top,
    pad,
    pool_mask,
    score_states,
    sentence_vectors,
)
from feedcraft.ctr.checkpoint import FitCheckpoint, Progress
from feedcraft.ctr.data import HeadlineVariants, string_column
from feedcraft.ctr.models import DEFAULT_ENCODER, LAZY_LOADS, HeadlineClickModel, LiftClickModel
from feedcraft.ctr.objectives import (
    VectorTable,
    clogit_nll,
    informative_variants,
    nll_per_click,
    week_centred_log_ctr,
)
from feedcraft.ctr.pairs import pairwise_accuracy, winner_pairs
from feedcraft.ctr.torch_runtime import (
    TorchThreads,
    bfloat16_products,
    scoring_device,
    torch_device,
)
from feedcraft.embeddings import Encoder
from feedcraft.errors import InvalidInput, NotFitted

__all__ = ["FineTunedHeadlineModel"]

#: Sentence-vector dimensions with a smaller sd over the training headlines are not used.
_MIN_SCALE = 1e-3
#: AdamW step size of the between-test loss's offset (a single scalar, far from the layers).
_OFFSET_LR = 1e-2
#: Arithmetic of fit's forward passes (see the class docstring).
_PRECISIONS = ("float32", "bfloat16")
#: Settings that change where a fit runs, not what it learns: a checkpoint resumes across them.
_NOT_IN_KEY = ("num_threads", "device", "batch_size", "checkpoint", "checkpoint_seconds")
#: What the encoder reads beside each headline (see the class docstring).
_CONTEXTS = ("none", "excerpt", "lede")


@dataclass
class _Runtime:
    """What scoring needs besides the stored weights; rebuilt after unpickling."""

    tokenizer: Any
    bert: Any
    top: Any
    frozen_layers: int
    device: str


class FineTunedHeadlineModel(LiftClickModel):
    """Conditional-logit click model whose headline encoder's top layers are fine-tuned.

    encoder: a sentence-transformers package or folder (mean-pooled BERT or MPNet layers), or a
    decoder language model's `.gguf` file (`ctr.decoder`; needs `gguf` and `accelerate`).
    trainable_layers: how many top transformer layers are trained (the rest stay frozen and
    are computed once). max_length: tokens read per headline. lr: AdamW learning rate.
    epochs: passes over the training tests (with a validation set, the best epoch is kept).
    tests_per_batch: whole tests per step (all variants of a test share one softmax).
    alpha: L2 penalty on the head (standardised features, loss per click), as in
    `HeadlineClickModel`. between_weight: weight of a second, auxiliary loss that fits f to
    each variant's log CTR minus its week's mean, so the variation between tests (story,
    placement: confounded, hence only a helper beside the causal within-test likelihood) also
    teaches the encoder which wordings draw clicks; 0 turns it off. num_threads: torch threads
    during fit and score (None: leave as is). device: where torch runs, "cpu" or "cuda[:N]":
    a GPU makes the larger encoders and all-layer settings affordable (all-mpnet-base-v2 with
    all 12 layers: ~40 s on an H200, ~43 min on two Zen 4 cores in bfloat16). `fit` refuses a
    device this machine lacks; scoring falls back to the CPU there, since the stored weights
    are device-free and a model trained on a GPU box is usually served elsewhere.
    precision: the arithmetic of fit's forward passes, "float32" or "bfloat16" (autocast:
    weights, gradients and optimiser state stay float32). On two Zen 4 cores (AVX512-BF16) a fit
    took 0.59 of the float32 time with the same accuracy (`headline_precision.py`); on CPUs
    without bfloat16 instructions its matrix products run in float32 (`bfloat16_products`;
    torch's own emulation was ~12x slower). `score` always runs in float32.
    checkpoint: a file for the training state, written every `checkpoint_seconds` and at each
    epoch's end: a fit finding its own (same settings and data) resumes from it and ends as
    if never stopped (`resumed_at_` says where; the file is then removed).
    context: what the encoder reads beside the headline: "none" (the default), "lede" or
    "excerpt". With one, it reads "headline SEP context" (`max_length` tokens, the context cut)
    and pools only the headline's tokens, so the story informs how the headline's words are
    read while the vector stays the headline's; scoring then needs that column (an empty value
    reads the headline alone). On Upworthy, whose variants nearly always share one lede, it
    scored below the headline alone on validation weeks (0.6151 against 0.6241 with MiniLM;
    benchmarks/README.md), so the default reads none. Otherwise excerpts and ledes are
    accepted (`HeadlineScorer`) but unread.
    """

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        *,
        trainable_layers: int = 2,
        max_length: int = 40,
        lr: float = 5e-5,
        epochs: int = 3,
        tests_per_batch: int = 16,
        alpha: float = 0.1,
        between_weight: float = 0.0,
        seed: int = 0,
        num_threads: int | None = None,
        batch_size: int = 128,
        max_grad_norm: float = 1.0,
        device: str = "cpu",
        precision: str = "float32",
        context: str = "none",
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_seconds: float = 600.0,
    ) -> None:
        self.encoder = encoder
        self.trainable_layers = trainable_layers
        self.max_length = max_length
        self.lr = lr
        self.epochs = epochs
        self.tests_per_batch = tests_per_batch
        self.alpha = alpha
        self.between_weight = between_weight
        self.seed = seed
        self.num_threads = num_threads
        self.batch_size = batch_size
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.precision = precision
        self.context = context
        self.checkpoint = checkpoint
        self.checkpoint_seconds = checkpoint_seconds

    # -- plumbing -------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_runtime", None)  # torch modules: rebuilt from the package and weights_
        state.pop("_machine_cache", None)  # this machine's folder, not the model's
        return state

    def use_machine_cache(self, folder: Path | None) -> Self:
        """Where a GGUF backbone's conversion is kept (`ctr.decoder`): a run-time setting of
        this machine (settings `cache_dir`), never pickled with the model."""
        self._machine_cache = folder
        return self

    def _check_params(self) -> None:
        for name in ("trainable_layers", "max_length", "tests_per_batch", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInput("must be an integer >= 1", field=name)
        if not isinstance(self.epochs, int) or self.epochs < 0:
            raise InvalidInput("must be an integer >= 0", field="epochs")
        if not (isinstance(self.lr, int | float) and self.lr > 0 and math.isfinite(self.lr)):
            raise InvalidInput("must be a finite number > 0", field="lr")
        for name in ("alpha", "between_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value >= 0 and math.isfinite(value)):
                raise InvalidInput("must be a finite number >= 0", field=name)
        if not (isinstance(self.checkpoint_seconds, int | float) and self.checkpoint_seconds >= 0):
            raise InvalidInput("must be a number >= 0", field="checkpoint_seconds")
        if not (isinstance(self.max_grad_norm, int | float) and self.max_grad_norm > 0):
            raise InvalidInput("must be a number > 0", field="max_grad_norm")
        if self.num_threads is not None and self.num_threads < 1:
            raise InvalidInput("must be >= 1 or None", field="num_threads")
        if self.precision not in _PRECISIONS:
            raise InvalidInput(
                f"must be one of {', '.join(_PRECISIONS)}, not {self.precision!r}",
                field="precision",
            )
        if self.context not in _CONTEXTS:
            raise InvalidInput(
                f"must be one of {', '.join(_CONTEXTS)}, not {self.context!r}", field="context"
            )
        self._torch_device()

    def _scoring_device(self) -> Any:
        """`device` where this machine has it, else the CPU (see the class docstring)."""
        return scoring_device(getattr(self, "device", "cpu"))  # older pickles lack `device`

    def _torch_device(self) -> Any:
        """`device` as a torch device, refused early when this machine lacks it."""
        return torch_device(getattr(self, "device", "cpu"))

    def _check_encoder(self, encoder: Encoder | None, fitted_name: str) -> None:
        if encoder is not None and encoder.name != fitted_name:
            raise InvalidInput(
                f"encoder {encoder.name!r} differs from {fitted_name!r}, "
                "the one this model was trained with",
                field="encoder",
            )

    # -- what the encoder reads ------------------------------------------------------------
    def _read(
        self,
        tokenizer: Any,
        headlines: Sequence[str],
        excerpts: Sequence[str],
        ledes: Sequence[str],
    ) -> list[str]:
        """Per row, the text the encoder reads: the headline, or "headline SEP context"."""
        context = getattr(self, "context", "none")  # models pickled before `context` existed
        if context == "none":
            return list(headlines)
        sep = tokenizer.sep_token
        ctx = excerpts if context == "excerpt" else ledes
        return [f"{h} {sep} {c}" if c.strip() else h for h, c in zip(headlines, ctx, strict=True)]

    def _pool_lengths(
        self, tokenizer: Any, headlines: Sequence[str], states: Sequence[Any]
    ) -> list[int] | None:
        """Tokens pooled per distinct text: the headline's own (with its start and separator
        tokens), as the tokenizer cuts it; None without a context (every token)."""
        if getattr(self, "context", "none") == "none":
            return None
        return [
            min(len(tokenizer(h, truncation=True, max_length=self.max_length)["input_ids"]), len(s))
            for h, s in zip(headlines, states, strict=True)
        ]

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self,
        variants: HeadlineVariants,
        *,
        validation: HeadlineVariants | None = None,
        encoder: Encoder | None = None,
        progress: bool = False,
    ) -> FineTunedHeadlineModel:
        """Fine-tune on the tests in `variants`; with `validation`, keep the epoch with the best
        pairwise accuracy there (`history_` has every epoch). Returns self."""
        self._check_params()
        for name, v in (("variants", variants), ("validation", validation)):
            if v is not None and not isinstance(v, HeadlineVariants):
                raise InvalidInput(f"expected HeadlineVariants, got {type(v).__name__}", field=name)
        if len(variants) == 0:
            raise InvalidInput("no variants to learn from", field="variants")
        informative = informative_variants(variants)
        if not informative.any():
            raise InvalidInput(
                "no test has two shown variants and a click; nothing to learn", field="variants"
            )
        val_pairs = None
        if validation is not None:
            val_pairs = winner_pairs(validation) if len(validation) else None
            if val_pairs is None or len(val_pairs) == 0:
                raise InvalidInput(
                    "no pair of variants with different headlines and CTRs to validate on",
                    field="validation",
                )
        saved, checkpoint = None, getattr(self, "checkpoint", None)  # older pickles lack it
        if checkpoint is not None:
            public = {k: v for k, v in vars(self).items() if k.strip("_") == k}  # not fitted
            settings = {k: v for k, v in public.items() if k not in _NOT_IN_KEY}
            saved = FitCheckpoint.for_fit(
                checkpoint, self.checkpoint_seconds, settings, [variants, validation]
            )
        resumed = None if saved is None else saved.load()  # refused now, not after loading
        start = time.perf_counter()
        reduced = self.precision == "bfloat16"
        with TorchThreads(self.num_threads), bfloat16_products(self._torch_device(), reduced):
            self._fit(
                variants, informative, validation, val_pairs, encoder, progress, saved, resumed
            )
        self.fit_seconds_ = time.perf_counter() - start + (saved.earlier_seconds if saved else 0)
        return self

    def _fit(
        self,
        variants: HeadlineVariants,
        informative: np.ndarray,
        validation: HeadlineVariants | None,
        val_pairs: Any,
        encoder: Encoder | None,
        progress: bool,
        saved: FitCheckpoint | None,
        resumed: dict[str, Any] | None,
    ) -> None:
        import torch

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        device = self._torch_device()
        name, tokenizer, bert = load_backbone(self.encoder, getattr(self, "_machine_cache", None))
        bert.to(device)
        self._check_encoder(encoder, name)
        n_layers = len(bert.encoder.layer)
        if self.trainable_layers > n_layers:
            raise InvalidInput(f"the encoder has only {n_layers} layers", field="trainable_layers")
        frozen = n_layers - self.trainable_layers
        dim = int(bert.config.hidden_size)

        def read(v: HeadlineVariants) -> list[str]:
            return self._read(tokenizer, v.headlines, v.excerpts, v.ledes)

        # Token states of every distinct text read after the frozen layers, computed once.
        index: dict[str, int] = {}
        heads: list[str] = []
        for v in (variants, validation) if validation is not None else (variants,):
            for t, h in zip(read(v), v.headlines, strict=True):
                if t not in index:
                    index[t] = len(index)
                    heads.append(h)
        distinct = list(index)
        if progress:
            print(f"frozen layers: token states of {len(distinct)} texts", flush=True)
        states = lower_states(tokenizer, bert, distinct, frozen, self.max_length, self.batch_size)
        pools = self._pool_lengths(tokenizer, heads, states)
        top = make_top(bert, frozen).to(device)

        def pooled_of(ids: Sequence[int] | np.ndarray) -> list[int] | None:
            return None if pools is None else [pools[i] for i in ids]

        def reduced() -> Any:
            """bfloat16 autocast when asked for (the forward passes of fit), else a no-op."""
            return torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"
            )

        def variant_scores(v: HeadlineVariants) -> np.ndarray:
            ids = np.array([index[t] for t in read(v)], dtype=np.int64)
            uniq, inv = np.unique(ids, return_inverse=True)
            picked = [states[i] for i in uniq]
            return score_states(top, picked, self.batch_size, pooled_of(uniq))[inv]

        # Warm start, unless resumed: a conditional logit on the frozen vectors sets the head.
        if resumed is None:
            train_ids = sorted({index[t] for t in read(variants)})
            with reduced():
                pooled = sentence_vectors(
                    top, [states[i] for i in train_ids], pooled_of(train_ids), self.batch_size
                )
            table = VectorTable(
                name, {distinct[i]: pooled[k] for k, i in enumerate(train_ids)}, dim
            )
            linear = HeadlineClickModel(
                encoder=name, fields=("headline",), lexical=False, alpha=self.alpha
            ).fit(dataclasses.replace(variants, headlines=tuple(read(variants))), encoder=table)
            # MiniLM has a few (near-)constant dimensions (sd 0 and 8e-9 over the archive): scaled
            # by their sd they would pass gradients ~1e27 to the layers, so they leave the head.
            flat = linear.scale_ < _MIN_SCALE
            with torch.no_grad():
                top.mean.copy_(torch.as_tensor(linear.mean_, dtype=torch.float32, device=device))
                top.scale.copy_(torch.as_tensor(np.where(flat, 1.0, linear.scale_), device=device))
                top.head.weight.copy_(
                    torch.as_tensor(np.where(flat, 0.0, linear.coef_), device=device)[None, :]
                )

        # Training data: informative variants, grouped by test.
        sub = variants.subset(informative)
        groups = sub.groups
        head_ids = np.array([index[t] for t in read(sub)], dtype=np.int64)
        log_n = np.log(sub.impressions)
        tests = [np.flatnonzero(groups == g) for g in range(int(groups.max()) + 1)]
        # f is a log-CTR lift, so its between-test target is log CTR against the week's mean
        # (CTRs drifted over the archive's two years); a free offset absorbs the level.
        between = torch.as_tensor(week_centred_log_ctr(sub), device=device)
        offset = torch.zeros(1, dtype=torch.float64, device=device, requires_grad=True)
        log_n_t = torch.as_tensor(log_n, device=device)
        clicks_t = torch.as_tensor(sub.clicks, device=device)

        history: list[dict[str, float]] = []
        best: tuple[float, int, dict[str, Any]] | None = None

        def evaluate(epoch: int, train_loss: float) -> None:
            nonlocal best
            row: dict[str, float] = {"epoch": epoch, "train_nll": train_loss}
            if validation is not None:
                with reduced():
                    s = variant_scores(validation)
                row["val_accuracy"] = pairwise_accuracy(s, val_pairs, n_boot=1).accuracy
                row["val_nll"] = nll_per_click(s, validation)
                if best is None or row["val_accuracy"] > best[0]:
                    best = (row["val_accuracy"], epoch, copy.deepcopy(top.state_dict()))
            history.append(row)
            if progress:
                print(
                    "  ".join(
                        f"{k} {v:.4f}" if k != "epoch" else f"epoch {v}" for k, v in row.items()
                    ),
                    flush=True,
                )

        if resumed is None:
            with reduced():
                start_scores = variant_scores(sub)
            evaluate(0, nll_per_click(start_scores, sub))
        params = [p for p in top.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=float(self.lr), weight_decay=0.0)
        if self.between_weight > 0:  # the offset is one free scalar: a step size of its own
            optim.add_param_group({"params": [offset], "lr": _OFFSET_LR})
        steps = math.ceil(len(tests) / self.tests_per_batch)
        # Linear warm-up over the first 10% of steps, then linear decay to 0: without the
        # warm-up, Adam's first full-size steps wreck the pretrained layers (the loss jumped
        # tenfold in the first steps).
        total_steps = max(steps * self.epochs, 1)
        warmup = max(1, total_steps // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim,
            lambda k: min(
                (k + 1) / warmup, max(0.0, (total_steps - k) / max(total_steps - warmup, 1))
            ),
        )
        self.resumed_at_: tuple[int, int] | None = None
        pos, stateful = Progress(), {"top": top, "optim": optim, "sched": sched}
        loose = {"offset": offset}  # unused, hence unchanged, without the between-test loss
        if resumed is not None:
            history[:], best, pos = FitCheckpoint.restore_training(
                resumed, stateful=stateful, tensors=loose, rng=rng
            )
            self.resumed_at_ = (pos.epoch, pos.step)
            if progress:
                print(f"resumed: epoch {pos.epoch}, step {pos.step}/{steps}", flush=True)

        def save() -> None:
            if saved is not None:
                saved.save_training(stateful, loose, rng, history, best, pos)

        for epoch in range(pos.epoch, self.epochs + 1):
            top.train()
            if pos.order is None:
                pos = Progress(epoch, 0, rng.permutation(len(tests)).tolist())
            order = np.array(pos.order)
            bar = tqdm(
                range(pos.step, steps),
                desc=f"epoch {epoch}/{self.epochs}",
                unit="step",
                disable=not progress,
                initial=pos.step,
                total=steps,
            )
            for step in bar:
                picked = order[step * self.tests_per_batch : (step + 1) * self.tests_per_batch]
                rows = np.concatenate([tests[t] for t in picked])
                uniq, inv = np.unique(head_ids[rows], return_inverse=True)
                batch, mask = pad([states[i] for i in uniq])
                pool = pool_mask(mask, pooled_of(uniq))
                with reduced():
                    f = top(batch, mask, pool)[torch.as_tensor(inv, device=device)]
                _, dense = np.unique(groups[rows], return_inverse=True)
                at = torch.as_tensor(rows, device=device)
                nll = clogit_nll(
                    f.double(), torch.as_tensor(dense, device=device), log_n_t[at], clicks_t[at]
                )
                w = top.head.weight
                loss = nll + 0.5 * float(self.alpha) * (w * w).sum()
                if self.between_weight > 0:
                    r = f.double() + offset - between[at]
                    loss = loss + 0.5 * float(self.between_weight) * (r * r).mean()
                optim.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
                optim.step()
                sched.step()
                pos.total, pos.step = pos.total + float(nll.detach()), step + 1
                bar.set_postfix(nll=f"{pos.total / (step + 1):.4f}")
                if saved is not None and saved.due() and pos.step < steps:
                    save()
            bar.close()
            evaluate(epoch, pos.total / max(steps, 1))
            pos = Progress(epoch + 1)
            save()

        if saved is not None:
            saved.remove()
        if best is not None:
            top.load_state_dict(best[2])
            self.best_epoch_ = best[1]
        else:
            self.best_epoch_ = self.epochs
        top.eval()
        self.history_ = history
        buffer = io.BytesIO()
        torch.save({k: v.cpu() for k, v in top.state_dict().items()}, buffer)
        self.weights_ = buffer.getvalue()
        self.encoder_name_ = name
        self.frozen_layers_ = frozen
        self._runtime = _Runtime(tokenizer, bert, top, frozen, str(device))
        self.offset_ = float(variant_scores(variants).mean())  # float32, as `score` runs
        self.base_ctr_ = variants.typical_ctr

    # -- scoring --------------------------------------------------------------------------
    def _ready(self) -> _Runtime:
        if not hasattr(self, "weights_"):
            raise NotFitted("FineTunedHeadlineModel is not fitted; call fit first")
        device = self._scoring_device()
        with LAZY_LOADS:  # concurrent first requests load the backbone once, not once each
            runtime: _Runtime | None = getattr(self, "_runtime", None)
            if runtime is None or runtime.device != str(device):  # new, or `device` changed
                import torch

                name, tokenizer, bert = load_backbone(
                    self.encoder, getattr(self, "_machine_cache", None)
                )
                if name != self.encoder_name_:
                    raise InvalidInput(
                        f"encoder {self.encoder!r} now resolves to {name!r}, but the model was "
                        f"trained on {self.encoder_name_!r}; retrain it",
                        field="encoder",
                    )
                top = make_top(bert, self.frozen_layers_).to(device).eval()
                buffer = io.BytesIO(self.weights_)
                top.load_state_dict(torch.load(buffer, map_location=device, weights_only=True))
                bert, frozen = bert.to(device), self.frozen_layers_
                self._runtime = runtime = _Runtime(tokenizer, bert, top, frozen, str(device))
        return runtime

    def score(
        self,
        headlines: Sequence[str],
        excerpts: Sequence[str] | None = None,
        ledes: Sequence[str] | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """f(headline) - offset_: the log CTR ratio against an average headline on one package."""
        heads = string_column(headlines, len(headlines), "headlines", rows="headlines")
        excs = string_column(excerpts, len(heads), "excerpts", rows="headlines")
        leds = string_column(ledes, len(heads), "ledes", rows="headlines")
        context = getattr(self, "context", "none")
        if context != "none" and {"excerpt": excerpts, "lede": ledes}[context] is None:
            raise InvalidInput(
                f"this model reads each headline's {context} (context={context!r}); pass them "
                f"(a `{context}` column; an empty value reads the headline alone)",
                field=f"{context}s",
            )
        with TorchThreads(self.num_threads):
            rt = self._ready()
            self._check_encoder(encoder, self.encoder_name_)
            if not heads:
                return np.zeros(0, dtype=np.float64)
            index: dict[str, int] = {}
            first: list[str] = []  # the headline of each distinct text
            pos = np.zeros(len(heads), dtype=np.int64)
            for row, (t, h) in enumerate(
                zip(self._read(rt.tokenizer, heads, excs, leds), heads, strict=True)
            ):
                if t not in index:
                    index[t] = len(index)
                    first.append(h)
                pos[row] = index[t]
            states = lower_states(
                rt.tokenizer,
                rt.bert,
                list(index),
                rt.frozen_layers,
                self.max_length,
                self.batch_size,
            )
            pools = self._pool_lengths(rt.tokenizer, first, states)
            return score_states(rt.top, states, self.batch_size, pools)[pos] - self.offset_
