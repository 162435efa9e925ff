"""NRMS-style neural user encoder (Wu et al., EMNLP 2019), small enough to train on CPU.

Why: plain content similarity (the mean of the history's vectors against a candidate) is near
random on click data such as NeMig, and popularity knows nothing about the user nor about
what was shown and not clicked. This model learns from the impressions themselves.

- News encoder: the frozen sentence vector of the item (e.g. MiniLM, passed to `fit` as
  `ItemVectors`) through a trainable projection, plus a learned id embedding for items seen in
  training (zero otherwise, so cold items are served by their text alone). NRMS reads words
  with its own attention; here the sentence model already did that, which keeps training to
  minutes on a CPU.
- User encoder: the last `max_history` history items (+ a learned recency embedding and a
  learned start token, so an empty history still has a representation) through multi-head
  self-attention, then additive attention pooling into one user vector.
- Click score: dot(user, candidate) + an item prior (a learned per-item bias plus a linear
  function of training counts: log clicks, exposures, history appearances and the smoothed
  click-through rate) + a learned weight on the candidate's mean cosine to the history's
  vectors.
- Training: softmax over 1 clicked + up to `n_negatives` non-clicked candidates of the same
  impression when `impressions` are given (NRMS's own objective; a per-slot bias absorbs
  position bias during training only), otherwise over each interaction against negatives
  sampled from the catalogue (half uniform, half by popularity), with the user's earlier
  interactions as history. Two stages, early-stopped on the mean AUC of a validation slice
  (held-out users' impressions, or the last interaction of a slice of users): the item prior
  first, then everything, starting from zero user and item representations so that the model
  moves away from its prior only as far as validation says the history helps. On small click
  logs (NeMig, the MIND sample) that is often not far: see benchmarks/README.md.

The item space is the vectors' ids plus any item in the interactions or impressions without a
vector (MIND's sample has text for few of its ids): those have no content part, only their
learned id embedding and prior. `n_threads` defaults to 1: on the shared 2-core machine a fit
with 2 torch threads took 4x longer than with 1 (the tensors are small; threads mostly wait).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Self

import numpy as np
import scipy.sparse as sp

from feedcraft.domain import IdIndex, Impression, Interactions, ItemVectors
from feedcraft.errors import InvalidInput
from feedcraft.recommenders._common import MatrixRecommender, check_interactions, user_histories

if TYPE_CHECKING:  # torch is imported only to fit or score (importing it takes seconds)
    from feedcraft.recommenders._nrms_net import Shape, Trained

#: Scores are clipped to +-this, so that `lowest_prior` stays strictly below every real score.
_SCORE_BOUND = 1e6
#: Item counts from training: clicks, exposures (impressions only), history appearances.
_N_COUNTS = 3
#: Pseudo-exposures (at the mean click rate) that smooth an item's click-through rate.
_CTR_PRIOR = 5.0
#: Slate positions told apart when debiasing training (later ones share the last).
_POSITIONS = 32
#: Validation candidates per held-out interaction (1 positive + these sampled negatives).
_VAL_NEGATIVES = 49

_Groups = tuple[np.ndarray, np.ndarray, np.ndarray]


class NRMSRecommender(MatrixRecommender):
    """Neural user encoder over the history's item vectors, trained on clicks (NRMS-style).

    `fit(interactions, item_vectors, impressions=...)` trains on impressions (each click
    against the non-clicks shown beside it) when given, else on the interactions with sampled
    negatives. Scores depend only on the history, not on the user id, so a user unseen in
    training is served from the history given at request time.
    """

    name = "nrms"
    needs_item_vectors = True
    #: Below every score the model gives (scores are clipped to +-_SCORE_BOUND).
    lowest_prior = -1e9

    trained_: Trained
    vectors_: np.ndarray

    def __init__(
        self,
        dim: int = 64,
        heads: int = 4,
        max_history: int = 50,
        n_negatives: int = 4,
        dropout: float = 0.2,
        epochs: int = 15,
        patience: int = 3,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        validation_fraction: float = 0.1,
        max_samples: int | None = 20_000,
        user_encoder: bool = True,
        n_threads: int = 1,
        random_state: int = 42,
    ) -> None:
        self.dim = dim
        self.heads = heads
        self.max_history = max_history
        self.n_negatives = n_negatives
        self.dropout = dropout
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.max_samples = max_samples
        self.user_encoder = user_encoder
        self.n_threads = n_threads
        self.random_state = random_state

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self,
        interactions: Interactions,
        item_vectors: ItemVectors | None = None,
        *,
        impressions: Sequence[Impression] | None = None,
    ) -> Self:
        """Learn from interactions, and from the impressions of the same users when given
        (never pass the impressions that will be scored)."""
        check_interactions(interactions)
        if item_vectors is None:
            raise InvalidInput(f"{type(self).__name__} needs item vectors", field="item_vectors")
        self._check_params()
        self._fit(interactions, item_vectors, list(impressions or []))
        self.interactions_ = interactions
        return self

    def _check_params(self) -> None:
        for name in ("dim", "heads", "max_history", "n_negatives", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise InvalidInput("must be >= 1", field=name)
        if self.patience < 1:
            raise InvalidInput("must be >= 1", field="patience")
        if self.dim % self.heads:
            raise InvalidInput("dim must be a multiple of heads", field="heads")
        if not 0.0 <= self.dropout < 1.0:
            raise InvalidInput("must be in [0, 1)", field="dropout")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise InvalidInput("must be in [0, 1)", field="validation_fraction")
        if self.learning_rate <= 0:
            raise InvalidInput("must be positive", field="learning_rate")
        if self.max_samples is not None and self.max_samples < 1:
            raise InvalidInput("must be >= 1 or None", field="max_samples")

    def _fit(
        self,
        interactions: Interactions,
        item_vectors: ItemVectors | None,
        impressions: list[Impression] | None = None,
    ) -> None:
        from feedcraft.recommenders import _nrms_net as net

        assert item_vectors is not None  # checked by fit()
        vectors = item_vectors
        impressions = impressions or []
        rng = np.random.default_rng(self.random_state)
        # the item space: vector ids first, then the items only the behaviour data names
        extra = dict.fromkeys(i for i in interactions.items.ids if i not in vectors.ids)
        for imp in impressions:
            extra.update((i, None) for i in (*imp.item_ids, *imp.history) if i not in vectors.ids)
        self.items_ = IdIndex([*vectors.ids.ids, *extra])
        n_items = len(self.items_)
        remap = self.items_.positions(list(interactions.items.ids))
        self.history_ = user_histories(interactions, n_items, remap)
        table = np.zeros((n_items + 1, vectors.dim), np.float32)  # row 0: padding
        table[1 : len(vectors.ids) + 1] = vectors.matrix
        self.vectors_ = table

        if impressions:
            history, slates, validation, counts = self._impression_examples(impressions, rng)

            def epoch_candidates(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
                return self._pick_negatives(slates, r)

        else:
            history, targets, validation, counts = self._interaction_examples(
                interactions, remap, rng
            )

            def epoch_candidates(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
                neg = self._sample_negatives(r, len(targets), self.n_negatives)
                return np.concatenate([targets[:, None], neg], axis=1), None

        if len(history) == 0:
            raise InvalidInput("no clicks to learn from", field="interactions")
        seen = counts.sum(axis=1) > 0
        id_index = np.zeros(n_items + 1, np.int64)
        id_index[1:][seen] = np.arange(1, int(seen.sum()) + 1)
        feats = _item_features(counts)
        schedule = net.Schedule(
            epochs=self.epochs,
            patience=self.patience,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            max_samples=self.max_samples,
            seed=self.random_state,
            n_threads=self.n_threads,
            user_encoder=self.user_encoder,
        )
        self.trained_ = net.train(
            self._shape(),
            schedule,
            table,
            feats,
            id_index,
            history,
            epoch_candidates,
            validation,
            rng,
        )

    def _shape(self) -> Shape:
        from feedcraft.recommenders._nrms_net import Shape

        return Shape(self.dim, self.heads, self.max_history, self.dropout)

    @property
    def training_log_(self) -> list[dict[str, float | str]]:
        """Loss and validation AUC per epoch of the last fit."""
        return self.trained_.log

    @property
    def best_validation_auc_(self) -> float:
        """Validation AUC of the weights kept (NaN without a validation slice)."""
        return self.trained_.best_validation_auc

    # -- examples -----------------------------------------------------------------------------
    def _pad_history(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Item indexes (position + 1) of the newest `max_history`, right-aligned, 0 = pad."""
        out = np.zeros(self.max_history, np.int64)
        arr = np.asarray(positions, np.int64)
        tail = arr[max(0, len(arr) - self.max_history) :]
        if len(tail):
            out[-len(tail) :] = tail + 1
        return out

    def _impression_examples(
        self, impressions: list[Impression], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, _Groups, np.ndarray]:
        """Per click of a training user's impression: its history and the slate (the click
        first, then the non-clicks); held-out users' impressions whole, for validation; and
        item counts from the training users only."""
        users = sorted({imp.user_id for imp in impressions})
        n_val = round(self.validation_fraction * len(users))
        val_users = {users[i] for i in rng.permutation(len(users))[:n_val]}
        counts = np.zeros((len(self.items_), _N_COUNTS))
        counted: set[str] = set()
        hist_rows, slates, val_hist, val_cands, val_labels = [], [], [], [], []
        for imp in impressions:
            if not imp.clicked:  # unlabelled (a test file): nothing to learn
                continue
            cand = self.items_.positions(list(imp.item_ids))
            clicked = np.asarray(imp.clicked, bool)
            hist = self.items_.positions(list(imp.history))
            hist = hist[hist >= 0]
            padded = self._pad_history(hist)
            if imp.user_id in val_users:
                if clicked.any() and not clicked.all():
                    val_hist.append(padded)
                    val_cands.append(cand + 1)
                    val_labels.append(clicked.astype(np.float32))
                continue
            np.add.at(counts[:, 0], cand[clicked], 1.0)
            np.add.at(counts[:, 1], cand, 1.0)
            if imp.user_id not in counted:  # a user's history counts once
                counted.add(imp.user_id)
                np.add.at(counts[:, 2], hist, 1.0)
            slot = np.minimum(np.arange(len(cand)), _POSITIONS - 1) + 1  # 0 = no position
            if clicked.all():
                continue
            for k in np.flatnonzero(clicked):
                hist_rows.append(padded)
                order = np.concatenate([[k], np.flatnonzero(~clicked)])
                slates.append(np.stack([cand[order] + 1, slot[order]]))
        history = np.array(hist_rows, np.int64).reshape(-1, self.max_history)
        width = max((len(c) for c in val_cands), default=1)
        validation = (
            np.array(val_hist, np.int64).reshape(-1, self.max_history),
            _pad_rows(val_cands, width, np.int64),
            _pad_rows(val_labels, width, np.float32),
        )
        width = max((c.shape[1] for c in slates), default=1)
        packed = np.zeros((2, len(slates), width), np.int64)  # (items, positions) x rows x slots
        for r, row in enumerate(slates):
            packed[:, r, : row.shape[1]] = row
        return history, packed, validation, counts

    def _pick_negatives(
        self, slates: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, 1 + n_negatives) items and their slate positions for one epoch: each click,
        then up to `n_negatives` of its slate's non-clicks drawn without replacement; 0 =
        empty slot. `slates` is (2, n, width): items and positions, the click first."""
        items, positions = slates
        k = min(self.n_negatives, items.shape[1] - 1)
        # a random order of each row's non-clicks, empty slots last
        keys = rng.random((len(items), items.shape[1] - 1)) + (items[:, 1:] == 0)
        pick = np.argsort(keys, axis=1)[:, :k] + 1
        cols = np.concatenate([np.zeros((len(items), 1), np.int64), pick], axis=1)
        out_items = np.zeros((len(items), 1 + self.n_negatives), np.int64)
        out_pos = np.zeros_like(out_items)
        out_items[:, : 1 + k] = np.take_along_axis(items, cols, axis=1)
        out_pos[:, : 1 + k] = np.take_along_axis(positions, cols, axis=1)
        return out_items, out_pos

    def _interaction_examples(
        self, interactions: Interactions, remap: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, _Groups, np.ndarray]:
        """Every interaction with the user's earlier ones as history; the last interaction
        of a held-out slice of users is kept for validation (against sampled negatives)."""
        it = interactions
        order = np.lexsort((np.arange(len(it)), it.timestamps, it.user_pos))
        users, items = it.user_pos[order], remap[it.item_pos[order]]
        keep = items >= 0
        users, items = users[keep], items[keep]
        n_users = len(it.users)
        n_val = round(self.validation_fraction * n_users)
        val_users = set(rng.permutation(n_users)[:n_val].tolist())
        starts = np.searchsorted(users, np.arange(n_users + 1))
        hist_rows, targets, val_hist, val_targets = [], [], [], []
        counts = np.zeros((len(self.items_), _N_COUNTS))
        for u in range(n_users):
            seq = items[starts[u] : starts[u + 1]]
            last = len(seq) - 1 if u in val_users and len(seq) > 1 else len(seq)
            np.add.at(counts[:, 0], seq[:last], 1.0)
            for t in range(last):
                hist_rows.append(self._pad_history(seq[max(0, t - self.max_history) : t]))
                targets.append(seq[t] + 1)
            if last < len(seq):
                val_hist.append(self._pad_history(seq[max(0, last - self.max_history) : last]))
                val_targets.append(seq[last] + 1)
        counts[:, 2] = counts[:, 0]
        pool = np.repeat(np.arange(1, len(self.items_) + 1), counts[:, 0].astype(np.int64))
        self.negative_pool_ = pool if len(pool) else np.arange(1, len(self.items_) + 1)
        vt = np.array(val_targets, np.int64)
        cands = np.concatenate(
            [vt[:, None], self._sample_negatives(rng, len(vt), _VAL_NEGATIVES)], 1
        )
        labels = np.zeros(cands.shape, np.float32)
        labels[:, 0] = 1.0
        validation = (np.array(val_hist, np.int64).reshape(-1, self.max_history), cands, labels)
        history = np.array(hist_rows, np.int64).reshape(-1, self.max_history)
        return history, np.array(targets, np.int64), validation, counts

    def _sample_negatives(self, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
        """Half uniform over the item space, half by training popularity (harder negatives)."""
        uniform = rng.integers(1, len(self.items_) + 1, size=(n, k))
        popular = self.negative_pool_[rng.integers(0, len(self.negative_pool_), size=(n, k))]
        return np.where(rng.random((n, k)) < 0.5, uniform, popular)

    # -- scoring ----------------------------------------------------------------------------------
    def _predict(
        self, user_ids: Sequence[str], hist: sp.csr_matrix, cols: np.ndarray | None
    ) -> np.ndarray:
        from feedcraft.recommenders._nrms_net import score

        rows = np.zeros((hist.shape[0], self.max_history), np.int64)
        for r in range(hist.shape[0]):
            lo, hi = hist.indptr[r], hist.indptr[r + 1]
            rows[r] = self._pad_history(
                hist.indices[lo:hi][np.argsort(hist.data[lo:hi], kind="stable")]
            )
        cand = np.arange(1, len(self.items_) + 1) if cols is None else np.asarray(cols) + 1
        out = score(self.trained_, self._shape(), self.vectors_, rows, cand, self.n_threads)
        return np.clip(out, -_SCORE_BOUND, _SCORE_BOUND)


def _item_features(counts: np.ndarray) -> np.ndarray:
    """(n_items + 1, N_FEATURES) standardised log counts and smoothed log click-through rate
    (0 without exposures), row 0 for padding: what popularity knows, as model inputs."""
    clicks, exposures = counts[:, 0], counts[:, 1]
    rate = clicks.sum() / exposures.sum() if exposures.sum() > 0 else 0.0
    ctr = np.zeros(len(counts))
    if rate > 0:
        ctr = np.log((clicks + _CTR_PRIOR * rate) / (exposures + _CTR_PRIOR)) - np.log(rate)
    feats = np.column_stack([np.log1p(counts), ctr])
    feats = (feats - feats.mean(axis=0)) / np.maximum(feats.std(axis=0), 1e-6)
    return np.vstack([np.zeros((1, feats.shape[1])), feats]).astype(np.float32)


def _pad_rows(rows: Sequence[np.ndarray], width: int, dtype: type) -> np.ndarray:
    """Variable-length rows as one zero-padded (len(rows), width) matrix."""
    out: np.ndarray = np.zeros((len(rows), width), dtype)
    for r, row in enumerate(rows):
        out[r, : len(row)] = row
    return out
