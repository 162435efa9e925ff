"""The torch half of the NRMS recommender (see `nrms`): the network, its training loop, scoring.

A separate module so that torch is imported only when an NRMS model is fitted or scores:
importing torch takes seconds, and every CLI call and test imports the recommender registry.
Fitted state leaves this module as numpy arrays, so a pickled model holds no torch objects.
`torch.optim` is not used: its first use imports torch's compiler stack (seconds more);
a decoupled-weight-decay Adam is a few lines.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

#: Item features: log1p of clicks, exposures, history appearances; smoothed log CTR.
N_FEATURES = 4
#: Slate positions with their own training-time bias (position 0 = none).
POSITIONS = 32
#: History rows scored at once: bounds the (rows, candidates) float64 block.
SCORE_ROWS = 256
#: Groups per validation batch.
VAL_BATCH = 512


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Limit torch's intra-op threads for the block (the machine is shared), then restore."""
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass(frozen=True)
class Shape:
    """Architecture hyper-parameters (the recommender's constructor arguments)."""

    dim: int
    heads: int
    max_history: int
    dropout: float


@dataclass(frozen=True)
class Schedule:
    """Optimisation hyper-parameters."""

    epochs: int
    patience: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    max_samples: int | None
    seed: int
    n_threads: int
    #: False: stop after the prior stage (an ablation: what the user encoder adds).
    user_encoder: bool = True


@dataclass
class Trained:
    """What scoring needs, as numpy: item representations and priors (row 0 = padding), the
    user encoder's weights and the similarity weight, plus the training log."""

    item_reps: np.ndarray
    item_prior: np.ndarray
    user_weights: dict[str, np.ndarray]
    similarity_weight: np.ndarray
    log: list[dict[str, float | str]] = field(default_factory=list)
    best_validation_auc: float = float("nan")


def trim(hist: np.ndarray) -> torch.Tensor:
    """History rows (right-aligned, 0 = padding) without the columns that are padding in
    every row: short histories (NeMig's average 5) then cost 5 tokens of attention, not 50."""
    width = max(1, int((hist != 0).sum(axis=1).max(initial=0)))
    return torch.from_numpy(np.ascontiguousarray(hist[:, hist.shape[1] - width :]))


class Dropout(nn.Module):
    """Inverted dropout from `torch.rand`: several times faster on CPU than nn.Dropout's
    bernoulli_, which took a third of a training step."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        return x * (torch.rand_like(x) >= self.p) / (1.0 - self.p)


class UserEncoder(nn.Module):
    """Self-attention over history item representations, then additive attention pooling."""

    def __init__(self, shape: Shape) -> None:
        super().__init__()
        d = shape.dim
        self.start = nn.Parameter(torch.zeros(1, 1, d))
        self.recency = nn.Embedding(shape.max_history + 1, d)
        nn.init.normal_(self.recency.weight, std=0.02)
        self.attention = nn.MultiheadAttention(d, shape.heads, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.drop = Dropout(shape.dropout)
        self.pool_proj = nn.Linear(d, d)
        self.pool_query = nn.Linear(d, 1, bias=False)

    def forward(self, reps: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """`reps` (B, L, d) history item representations, newest last; `pad` (B, L) True at
        padding. A learned start token is always present, so an empty history still has a
        representation. Returns (B, d)."""
        b, _, d = reps.shape
        real = (~pad).long()
        rank = real.flip(1).cumsum(1).flip(1) * real  # 1 = newest item, 0 = padding
        x = torch.cat([self.start.expand(b, 1, d), reps + self.recency(rank)], dim=1)
        mask = torch.cat([torch.zeros(b, 1, dtype=torch.bool), pad], dim=1)
        h, _ = self.attention(x, x, x, key_padding_mask=mask, need_weights=False)
        h = self.norm(x + self.drop(h))
        logits = self.pool_query(torch.tanh(self.pool_proj(h))).squeeze(-1)
        weights = torch.softmax(logits.masked_fill(mask, float("-inf")), dim=1)
        return (weights.unsqueeze(-1) * h).sum(dim=1)


def similarity(
    weight: torch.Tensor, hv: torch.Tensor, cv: torch.Tensor, pad: torch.Tensor
) -> torch.Tensor:
    """Weighted mean cosine of each candidate's vector to the history's vectors: (B, C).

    `hv` (B, L, D) history vectors; `cv` (B, C, D), or (C, D) shared by every row (scoring).
    Vectors are unit length, zero for items without one. The mean of the cosines is the
    cosine to the mean vector, so the whole catalogue costs one (B, D) x (D, C) product; the
    max over the history (tried first) costs L times that and made a 610-user top-10 over
    9.7k MiniLM vectors take 18 s."""
    real = (~pad).unsqueeze(-1)
    mean = (hv * real).sum(1) / real.sum(1).clamp(min=1)
    if cv.dim() == 2:
        return (mean @ cv.T) * weight
    return torch.einsum("bcd,bd->bc", cv, mean) * weight


class Net(nn.Module):
    """News encoder (projection of the frozen vector + id embedding), item prior, user encoder.
    Item index 0 is padding; `id_index` maps item indexes to id-embedding rows (0 = none)."""

    def __init__(
        self, vectors: np.ndarray, features: np.ndarray, id_index: np.ndarray, shape: Shape
    ) -> None:
        super().__init__()
        d = shape.dim
        self.vectors = torch.from_numpy(vectors)
        self.features = torch.from_numpy(features)
        self.id_index = torch.from_numpy(id_index)
        n_ids = int(id_index.max()) + 1
        out = nn.Linear(d, d)
        # zero output layer: every item representation starts at zero, the model as its prior
        nn.init.zeros_(out.weight)
        nn.init.zeros_(out.bias)
        self.proj = nn.Sequential(nn.Linear(vectors.shape[1], d), nn.GELU(), out)
        # zero-initialised: an item never seen in training keeps a zero embedding and bias
        self.ids = nn.Embedding(n_ids, d)
        nn.init.zeros_(self.ids.weight)
        self.bias = nn.Embedding(n_ids, 1)
        nn.init.zeros_(self.bias.weight)
        self.feature_weights = nn.Linear(N_FEATURES, 1)
        nn.init.zeros_(self.feature_weights.weight)
        nn.init.zeros_(self.feature_weights.bias)
        self.similarity_weight = nn.Parameter(torch.zeros(1))
        # training only: the click bias of a slate position, so that it is not learned as
        # relevance (position-bias-aware learning, Guo et al. 2019); scoring has no position
        self.position_bias = nn.Embedding(POSITIONS + 1, 1)
        nn.init.zeros_(self.position_bias.weight)
        self.drop = Dropout(shape.dropout)
        self.user = UserEncoder(shape)

    def item_reps(self, idx: torch.Tensor, vectors: torch.Tensor | None = None) -> torch.Tensor:
        """Representations of items `idx`; `vectors` = their rows of the table if gathered."""
        v = self.vectors[idx] if vectors is None else vectors
        return self.proj(v) + self.drop(self.ids(self.id_index[idx]))

    def prior(self, idx: torch.Tensor) -> torch.Tensor:
        bias = self.bias(self.id_index[idx]).squeeze(-1)
        return bias + self.feature_weights(self.features[idx]).squeeze(-1)

    def forward(
        self,
        hist: torch.Tensor,
        cands: torch.Tensor,
        positions: torch.Tensor | None = None,
        *,
        prior_only: bool = False,
    ) -> torch.Tensor:
        """Click logits (B, C) of candidates `cands` (B, C) for histories `hist` (B, L), with
        the candidates' slate positions (B, C; 1-based, 0 = none) when training on slates."""
        if prior_only:
            logits = self.prior(cands)
            if positions is not None:
                logits = logits + self.position_bias(positions).squeeze(-1)
            return logits
        pad = hist == 0
        hv, cv = self.vectors[hist], self.vectors[cands]
        user = self.user(self.item_reps(hist, hv), pad)
        logits = (self.item_reps(cands, cv) * user.unsqueeze(1)).sum(-1) + self.prior(cands)
        logits = logits + similarity(self.similarity_weight, hv, cv, pad)
        if positions is not None:
            logits = logits + self.position_bias(positions).squeeze(-1)
        return logits


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW."""

    def __init__(
        self, params: list[nn.Parameter], lr: float, weight_decay: float, eps: float = 1e-8
    ) -> None:
        self.params = params
        self.lr, self.weight_decay, self.eps = lr, weight_decay, eps
        self.betas = (0.9, 0.999)
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            p.mul_(1.0 - self.lr * self.weight_decay)
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            p.addcdiv_(m / c1, (v / c2).sqrt_().add_(self.eps), value=-self.lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def group_auc(scores: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    """Mean per-row AUC (ties count half) over rows with both classes among masked slots."""
    aucs = []
    for s, y, m in zip(scores, labels, mask, strict=True):
        pos, neg = s[m & (y > 0)], s[m & (y <= 0)]
        if len(pos) == 0 or len(neg) == 0:
            continue
        greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
        aucs.append(greater / (len(pos) * len(neg)))
    return float(np.mean(aucs)) if aucs else float("nan")


def _validate(net: Net, hist: np.ndarray, cands: np.ndarray, labels: np.ndarray) -> float:
    net.eval()
    out = []
    with torch.no_grad():
        for lo in range(0, len(hist), VAL_BATCH):
            h = trim(hist[lo : lo + VAL_BATCH])
            c = torch.from_numpy(cands[lo : lo + VAL_BATCH])
            out.append(net(h, c).numpy())
    return group_auc(np.concatenate(out), labels, cands > 0)


@dataclass
class _Best:
    """The best weights seen so far, by validation AUC."""

    state: dict[str, torch.Tensor]
    auc: float = -math.inf


def _run_stage(
    stage: str,
    net: Net,
    params: list[nn.Parameter],
    learning_rate: float,
    schedule: Schedule,
    history: np.ndarray,
    epoch_candidates: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray | None]],
    validation: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
    best: _Best,
    log: list[dict[str, float | str]],
) -> None:
    """Epochs of softmax loss over each row's candidate slots (the positive first, 0 = empty)
    until validation AUC has not improved on `best` for `patience` epochs."""
    prior_only = stage == "prior"
    optimiser = AdamW(params, learning_rate, schedule.weight_decay)
    bad = 0
    for epoch in range(schedule.epochs):
        net.train()
        order = rng.permutation(len(history))
        if schedule.max_samples is not None:
            order = order[: schedule.max_samples]
        cands, positions = epoch_candidates(rng)
        total = 0.0
        for lo in range(0, len(order), schedule.batch_size):
            rows = order[lo : lo + schedule.batch_size]
            c = torch.from_numpy(cands[rows])
            p = None if positions is None else torch.from_numpy(positions[rows])
            logits = net(trim(history[rows]), c, p, prior_only=prior_only)
            logits = logits.masked_fill(c == 0, -math.inf)
            loss = nn.functional.cross_entropy(logits, torch.zeros(len(rows), dtype=torch.long))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(rows)
        auc = _validate(net, *validation) if len(validation[0]) else math.nan
        log.append(
            {"stage": stage, "epoch": epoch + 1.0, "loss": total / len(order), "val_auc": auc}
        )
        if math.isnan(auc):  # nothing to validate on: keep the last epoch
            best.state = copy.deepcopy(net.state_dict())
        elif auc > best.auc:
            best.state, best.auc, bad = copy.deepcopy(net.state_dict()), auc, 0
        else:
            bad += 1
            if bad >= schedule.patience:
                break
    net.load_state_dict(best.state)


def train(
    shape: Shape,
    schedule: Schedule,
    vectors: np.ndarray,
    features: np.ndarray,
    id_index: np.ndarray,
    history: np.ndarray,
    epoch_candidates: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray | None]],
    validation: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> Trained:
    """Two stages, each early-stopped on the mean AUC of `validation` (histories, candidates,
    labels), keeping the best weights of both:

    1. the item prior alone (a few parameters, convex, at 10x the learning rate): what
       popularity knows, learned first because it is most of the signal on click logs;
    2. everything, from there. The user and item representations start at zero (so the model
       starts as the prior) and grow only as far as they improve validation AUC: where the
       history does not predict clicks, the result stays the prior instead of fitting noise.
    """
    with torch_threads(schedule.n_threads), torch.random.fork_rng():
        torch.manual_seed(schedule.seed)
        net = Net(vectors, features, id_index, shape)
        best = _Best(copy.deepcopy(net.state_dict()))
        log: list[dict[str, float | str]] = []
        args = (schedule, history, epoch_candidates, validation, rng, best, log)
        prior = [*net.bias.parameters(), *net.feature_weights.parameters()]
        prior += list(net.position_bias.parameters())
        _run_stage("prior", net, prior, 10 * schedule.learning_rate, *args)
        if schedule.user_encoder:
            _run_stage("full", net, list(net.parameters()), schedule.learning_rate, *args)
        net.eval()
        with torch.no_grad():
            idx = torch.arange(len(vectors))
            reps = net.item_reps(idx)
            reps[0] = 0.0
            item_prior = net.prior(idx)
        return Trained(
            item_reps=reps.numpy().astype(np.float32),
            item_prior=item_prior.numpy().astype(np.float64),
            user_weights={k: v.numpy().copy() for k, v in net.user.state_dict().items()},
            similarity_weight=net.similarity_weight.detach().numpy().copy(),
            log=log,
            best_validation_auc=best.auc if best.auc > -math.inf else math.nan,
        )


def score(
    trained: Trained,
    shape: Shape,
    vectors: np.ndarray,
    rows: np.ndarray,
    cand: np.ndarray,
    n_threads: int,
) -> np.ndarray:
    """(len(rows), len(cand)) float64 click scores for padded history rows and item indexes."""
    out = np.empty((len(rows), len(cand)), np.float64)
    reps = trained.item_reps[cand].T.astype(np.float64)
    prior = trained.item_prior[cand]
    with torch_threads(n_threads), torch.no_grad():
        encoder = UserEncoder(shape)
        encoder.load_state_dict({k: torch.from_numpy(v) for k, v in trained.user_weights.items()})
        encoder.eval()
        table = torch.from_numpy(vectors)
        item_reps = torch.from_numpy(trained.item_reps)
        weight = torch.from_numpy(trained.similarity_weight)
        cand_vectors = table[torch.from_numpy(cand)]
        for lo in range(0, len(rows), SCORE_ROWS):
            h = trim(rows[lo : lo + SCORE_ROWS])
            pad = h == 0
            user = encoder(item_reps[h], pad).double().numpy()
            sim = similarity(weight, table[h], cand_vectors, pad).double().numpy()
            out[lo : lo + SCORE_ROWS] = user @ reps + prior + sim
    return out
