"""FBNetV3-style predictor pretraining: learn free statistics of every cell, then accuracy.

Dai et al., "FBNetV3: Joint Architecture-Recipe Search using Predictor Pretraining"
(CVPR 2021) pretrain the architecture encoder of their accuracy predictor to predict
statistics that cost nothing to compute for any architecture (FLOPs, parameters), on
many architectures, then train the predictor on the few measured accuracies starting
from that encoder: first with the pretrained encoder frozen, then all of it at a smaller
learning rate, with a Huber loss. :class:`PretrainedMLPPredictor` does this with an MLP
encoder on the feature rows:

1. **Pretraining** (when ``pretrain`` is not ``None``): the encoder (``hidden`` ReLU
   layers) and a linear head predict the standardised statistics ``S`` of the pool rows
   ``pretrain_pool`` with the mean squared error, ``pretrain_epochs`` epochs. The
   weights are cached in memory, keyed by a SHA-256 of the pool rows, the statistics and
   every setting that shapes the result (random seed included), so the harness's
   repetitions over the same pool (other training sizes) do not pretrain again.
2. **Fine-tuning** on ``(X, y)``: a new linear accuracy head; ``freeze_fraction`` of
   ``epochs`` with the encoder frozen at ``learning_rate``, the rest with everything
   trainable at ``learning_rate * finetune_lr_factor``; Huber loss on standardised ``y``.

Without pretraining (``pretrain=None``) the same network, on the same input columns, is
trained from scratch for ``epochs`` at ``learning_rate``: the baseline of the comparison.

What ``pretrain`` may be (a decision of this module; see docs/predictors.md):

``None``
    No pretraining.
``"columns"``
    The statistics are the columns ``stat_columns`` of the feature rows (e.g. the
    ``zc_naswot``, ``zc_params`` and ``flops`` extras at the end of a feature set), read
    from ``pretrain_pool``. They are removed from the network's input unless
    ``stats_as_input=True``, as in FBNetV3, where the statistics are targets, not inputs.
an array ``(n_pool, n_stats)``
    The statistics of the rows of ``pretrain_pool`` (required then).
a callable
    ``pretrain(rows) -> (n, n_stats)``, computed from the (input) feature rows of the pool.

``pretrain_pool=None`` pretrains on the rows passed to ``fit`` (a small pool, only useful
in tests); the harness (:func:`predictors.evaluate.evaluate`) passes the feature rows of
every cell of its pool (no accuracy is involved: the statistics are free for every cell).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> pool = rng.integers(0, 2, size=(500, 8)).astype(float)
>>> stats = pool @ rng.normal(size=(8, 2))
>>> X = np.hstack([pool, stats])
>>> y = stats[:, 0] + 0.1 * rng.normal(size=500)
>>> m = PretrainedMLPPredictor(pretrain="columns", stat_columns=(8, 9), pretrain_pool=X,
...                            pretrain_epochs=5, epochs=20, random_state=0)
>>> m.fit(X[:50], y[:50]).predict(X[50:53]).shape
(3,)
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors._nets import Standardizer, torch_local
from predictors.base import Predictor, seed_from_random_state

__all__ = [
    "PRETRAIN_CACHE",
    "PretrainedMLPPredictor",
    "clear_pretrain_cache",
]

log = logging.getLogger(__name__)

#: Pretrained encoder weights by key (see the module docstring); at most
#: :data:`PRETRAIN_CACHE_SIZE` entries, least recently used dropped first.
PRETRAIN_CACHE: OrderedDict[str, dict[str, Any]] = OrderedDict()
PRETRAIN_CACHE_SIZE = 32


def clear_pretrain_cache() -> None:
    """Forget every cached pretrained encoder.

    Examples
    --------
    >>> clear_pretrain_cache(); len(PRETRAIN_CACHE)
    0
    """
    PRETRAIN_CACHE.clear()


def _mlp(n_in: int, hidden: tuple[int, ...]) -> Any:
    import torch.nn as nn

    layers: list[nn.Module] = []
    fan_in = int(n_in)
    for w in hidden:
        layers += [nn.Linear(fan_in, int(w)), nn.ReLU()]
        fan_in = int(w)
    return nn.Sequential(*layers)


def _train(
    params: list[Any],
    forward: Callable[[Any], Any],
    x: Any,
    target: Any,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    loss: Callable[[Any, Any], Any],
    gen: Any,
) -> None:
    import torch

    if epochs < 1:
        return
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    n = x.shape[0]
    bs = max(1, min(int(batch_size), n))
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            value = loss(forward(x[idx]), target[idx])
            opt.zero_grad()
            value.backward()
            opt.step()
        sched.step()


class PretrainedMLPPredictor(Predictor):
    """MLP accuracy predictor with FBNetV3-style pretraining on free statistics.

    Parameters
    ----------
    pretrain : None, "columns", ndarray or callable, default None
        Source of the pretraining statistics (module docstring).
    pretrain_pool : ndarray of shape (n_pool, n_features) or None, default None
        Feature rows (same columns as ``X``) of the cells to pretrain on.
    stat_columns : tuple of int or None, default None
        Columns of ``X`` that hold free statistics (``pretrain="columns"`` reads them);
        negative indices count from the end.
    stats_as_input : bool, default False
        Keep the ``stat_columns`` in the network's input as well.
    hidden : tuple of int, default (256, 256)
        Encoder widths (the last one is the embedding).
    pretrain_epochs : int, default 50
    pretrain_batch_size : int, default 256
    pretrain_learning_rate : float, default 1e-3
    epochs : int, default 200
        Fine-tuning epochs (or training epochs without pretraining).
    batch_size : int, default 32
    learning_rate : float, default 1e-3
    finetune_lr_factor : float, default 0.1
        Learning rate of the unfrozen phase, relative to ``learning_rate``.
    freeze_fraction : float, default 0.5
        Share of ``epochs`` with the pretrained encoder frozen.
    weight_decay : float, default 1e-4
    huber_delta : float, default 1.0
        Of the Huber loss on standardised targets.
    min_updates : int, default 1000
        Fine-tuning (and training without pretraining) lasts at least this many optimiser
        steps: with few cells an epoch is one step, so ``epochs`` is raised to
        ``ceil(min_updates / batches per epoch)`` (the frozen share stays
        ``freeze_fraction``).
    n_threads : int, default 1
    random_state : int, Generator or None, default None

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40)[:, None] * np.ones((1, 3))
    >>> m = PretrainedMLPPredictor(epochs=60, random_state=0).fit(X, X[:, 0])
    >>> bool(m.predict(X[-1:])[0] > m.predict(X[:1])[0])
    True
    """

    def __init__(
        self,
        *,
        pretrain: Any = None,
        pretrain_pool: np.ndarray | None = None,
        stat_columns: tuple[int, ...] | None = None,
        stats_as_input: bool = False,
        hidden: tuple[int, ...] = (256, 256),
        pretrain_epochs: int = 50,
        pretrain_batch_size: int = 256,
        pretrain_learning_rate: float = 1e-3,
        epochs: int = 200,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        finetune_lr_factor: float = 0.1,
        freeze_fraction: float = 0.5,
        weight_decay: float = 1e-4,
        huber_delta: float = 1.0,
        min_updates: int = 1000,
        n_threads: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.pretrain = pretrain
        self.pretrain_pool = pretrain_pool
        self.stat_columns = stat_columns
        self.stats_as_input = stats_as_input
        self.hidden = hidden
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_batch_size = pretrain_batch_size
        self.pretrain_learning_rate = pretrain_learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.finetune_lr_factor = finetune_lr_factor
        self.freeze_fraction = freeze_fraction
        self.weight_decay = weight_decay
        self.huber_delta = huber_delta
        self.min_updates = min_updates
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ columns
    def _stat_idx(self, n_features: int) -> np.ndarray:
        if self.stat_columns is None:
            return np.zeros(0, dtype=np.int64)
        idx = np.asarray([int(c) for c in self.stat_columns], dtype=np.int64)
        if idx.size and (idx.min() < -n_features or idx.max() >= n_features):
            raise OutOfDomainError(
                f"stat_columns {tuple(self.stat_columns)} out of range for {n_features} "
                f"features; allowed: -{n_features} .. {n_features - 1}"
            )
        return np.unique(idx % n_features)

    def _input_idx(self, n_features: int) -> np.ndarray:
        stats = self._stat_idx(n_features)
        if self.stats_as_input or not stats.size:
            return np.arange(n_features)
        keep = np.setdiff1d(np.arange(n_features), stats)
        if not keep.size:
            raise OutOfDomainError(
                "stat_columns cover every feature; keep some input columns or set "
                "stats_as_input=True"
            )
        return keep

    def _pool_and_stats(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pool rows (all columns) and their statistics ``(n_pool, n_stats)``."""
        pool = X if self.pretrain_pool is None else np.asarray(self.pretrain_pool, np.float64)
        if pool.ndim != 2 or pool.shape[1] != X.shape[1]:
            raise OutOfDomainError(
                f"pretrain_pool must have {X.shape[1]} columns like X; got shape {pool.shape}"
            )
        if isinstance(self.pretrain, str):
            if self.pretrain != "columns":
                raise OutOfDomainError(
                    f"unknown pretrain source {self.pretrain!r}; allowed: None, "
                    f"{allowed(['columns'])}, an array or a callable"
                )
            stats_idx = self._stat_idx(X.shape[1])
            if not stats_idx.size:
                raise OutOfDomainError("pretrain='columns' needs stat_columns")
            stats = pool[:, stats_idx]
        elif callable(self.pretrain):
            stats = np.asarray(self.pretrain(pool[:, self._input_idx(X.shape[1])]), np.float64)
        else:
            if self.pretrain_pool is None:
                raise OutOfDomainError("pretrain given as an array needs pretrain_pool")
            stats = np.asarray(self.pretrain, dtype=np.float64)
        stats = stats.reshape(len(pool), -1) if stats.size == len(pool) else stats
        if stats.ndim != 2 or stats.shape[0] != len(pool) or not np.isfinite(stats).all():
            raise OutOfDomainError(
                f"pretraining statistics must be finite, shape ({len(pool)}, n_stats); got "
                f"{stats.shape}"
            )
        return pool, stats

    # ------------------------------------------------------------------ pretraining
    def _cache_key(self, inputs: np.ndarray, stats: np.ndarray, seed: int) -> str:
        h = hashlib.sha256()
        for a in (inputs, stats):
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(repr(a.shape).encode())
            h.update(a.tobytes())
        settings = (
            tuple(int(w) for w in self.hidden),
            int(self.pretrain_epochs),
            int(self.pretrain_batch_size),
            float(self.pretrain_learning_rate),
            float(self.weight_decay),
            seed,
        )
        h.update(repr(settings).encode())
        return h.hexdigest()

    def _pretrained_encoder(self, inputs: np.ndarray, stats: np.ndarray, seed: int) -> Any:
        import torch

        key = self._cache_key(inputs, stats, seed)
        if key in PRETRAIN_CACHE:
            PRETRAIN_CACHE.move_to_end(key)
            self.pretrain_cached_ = True
            state = PRETRAIN_CACHE[key]
            encoder = _mlp(inputs.shape[1], tuple(self.hidden))
            encoder.load_state_dict(state)
            return encoder
        self.pretrain_cached_ = False
        torch.manual_seed(seed + 1)
        encoder = _mlp(inputs.shape[1], tuple(self.hidden))
        head = torch.nn.Linear(int(self.hidden[-1]) if self.hidden else inputs.shape[1],
                               stats.shape[1])
        s = Standardizer.fit(stats)
        xt = torch.from_numpy(inputs.astype(np.float32))
        st = torch.from_numpy(s.transform(stats).astype(np.float32))
        gen = torch.Generator().manual_seed(seed + 1)
        encoder.train()
        _train(
            [*encoder.parameters(), *head.parameters()],
            lambda x: head(encoder(x)),
            xt,
            st,
            epochs=int(self.pretrain_epochs),
            batch_size=int(self.pretrain_batch_size),
            lr=float(self.pretrain_learning_rate),
            weight_decay=float(self.weight_decay),
            loss=torch.nn.functional.mse_loss,
            gen=gen,
        )
        with torch.no_grad():
            self.pretrain_loss_ = float(torch.nn.functional.mse_loss(head(encoder(xt)), st))
        PRETRAIN_CACHE[key] = {k: v.detach().clone() for k, v in encoder.state_dict().items()}
        while len(PRETRAIN_CACHE) > PRETRAIN_CACHE_SIZE:
            PRETRAIN_CACHE.popitem(last=False)
        return encoder

    # ------------------------------------------------------------------ fit / predict
    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        if min(int(self.epochs), int(self.batch_size), int(self.pretrain_batch_size)) < 1:
            raise OutOfDomainError(
                f"epochs and batch sizes must be >= 1; got {self.epochs}, {self.batch_size}, "
                f"{self.pretrain_batch_size}"
            )
        if not 0.0 <= float(self.freeze_fraction) <= 1.0:
            raise OutOfDomainError(f"freeze_fraction must be in [0, 1]; got {self.freeze_fraction}")
        self.input_idx_ = self._input_idx(X.shape[1])
        seed = seed_from_random_state(self.random_state)
        pretrained = self.pretrain is not None
        if pretrained:
            pool, stats = self._pool_and_stats(X)
            self.x_scale_ = Standardizer.fit(pool[:, self.input_idx_])
        else:
            self.x_scale_ = Standardizer.fit(X[:, self.input_idx_])
        self.y_scale_ = Standardizer.fit(y[:, None])
        width = int(self.hidden[-1]) if self.hidden else len(self.input_idx_)
        with torch_local(self.n_threads), torch.random.fork_rng(devices=[]):
            if pretrained:
                inputs = self.x_scale_.transform(pool[:, self.input_idx_])
                encoder = self._pretrained_encoder(inputs, stats, seed)
            else:
                torch.manual_seed(seed + 1)
                encoder = _mlp(len(self.input_idx_), tuple(self.hidden))
            torch.manual_seed(seed)
            head = torch.nn.Linear(width, 1)
            xt = torch.from_numpy(self.x_scale_.transform(X[:, self.input_idx_]).astype(np.float32))
            yt = torch.from_numpy(self.y_scale_.transform(y[:, None]).astype(np.float32))
            gen = torch.Generator().manual_seed(seed)
            delta = float(self.huber_delta)

            def loss(p: Any, t: Any) -> Any:
                return torch.nn.functional.huber_loss(p, t, delta=delta)

            def forward(x: Any) -> Any:
                return head(encoder(x))

            common: dict[str, Any] = {
                "batch_size": int(self.batch_size),
                "weight_decay": float(self.weight_decay),
                "loss": loss,
                "gen": gen,
            }
            per_epoch = -(-X.shape[0] // max(1, min(int(self.batch_size), X.shape[0])))
            epochs = max(int(self.epochs), -(-int(self.min_updates) // per_epoch))
            self.epochs_ = epochs
            encoder.train()
            if pretrained:
                frozen = round(float(self.freeze_fraction) * epochs)
                for p in encoder.parameters():
                    p.requires_grad_(False)
                _train(list(head.parameters()), forward, xt, yt, epochs=frozen,
                       lr=float(self.learning_rate), **common)
                for p in encoder.parameters():
                    p.requires_grad_(True)
                _train([*encoder.parameters(), *head.parameters()], forward, xt, yt,
                       epochs=epochs - frozen,
                       lr=float(self.learning_rate) * float(self.finetune_lr_factor), **common)
            else:
                _train([*encoder.parameters(), *head.parameters()], forward, xt, yt,
                       epochs=epochs, lr=float(self.learning_rate), **common)
            encoder.eval()
        self.net_ = torch.nn.Sequential(encoder, head)
        log.debug("pretrained MLP fit on %d cells (pretrained=%s)", X.shape[0], pretrained)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch_local(self.n_threads), torch.no_grad():
            xt = torch.from_numpy(self.x_scale_.transform(X[:, self.input_idx_]).astype(np.float32))
            raw = self.net_(xt).numpy().astype(np.float64)
        return self.y_scale_.inverse(raw)[:, 0]
