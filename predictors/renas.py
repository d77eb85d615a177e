"""ReNAS: a small CNN on the architecture feature tensor, trained with a pairwise ranking loss.

Xu et al., "ReNAS: Relativistic Evaluation of Neural Architecture Search" (CVPR 2021)
encode a NAS-Bench-101 cell as a ``19 x 7 x 7`` tensor (the type matrix, then one FLOPs
and one parameter matrix per each of the 9 cells of the network, each masked by the
adjacency matrix), feed it to a small convolutional network, and train it to *rank*:
for pairs ``(i, j)`` with ``y_i > y_j`` the loss penalises ``f(x_i) - f(x_j)`` being small
or negative. They report that 424 training cells (0.1 % of NB101) already give a good
ranking.

This module's network (our own choice; the paper describes "a few conv layers and FC
layers"): three ``3x3`` convolutions (padding 1; ``channels`` wide, default 16, 32, 32),
each followed by batch normalisation and ReLU, then flatten, a fully connected layer of
``hidden`` units (default 64) with ReLU and dropout, and a final linear unit that outputs
the score. Inputs are standardised per feature with training statistics. Losses (a key of
:data:`LOSSES`), on ``d = f(x_i) - f(x_j)`` for every pair of a mini-batch with
``y_i > y_j``: ``"hinge"``: ``max(0, margin - d)``; ``"logistic"``: ``log(1 + exp(-d))``.
After training, the scores are mapped to the scale of ``y`` by a least-squares line on the
training data (``calibrate=True``), so ``predict`` returns accuracies with the same order.

``X`` holds the flattened tensor; ``input_shape`` (for NB101 ``(19, 7, 7)``) restores it.
With ``input_shape=None`` (flat-input mode) a row of ``d`` features is read as a
``1 x 1 x d`` image, so any table works (this is what scikit-learn's estimator checks use).

torch is imported inside the methods only: importing this module stays cheap.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 2 * 3 * 3))
>>> y = X[:, 0] - X[:, 5]
>>> m = ReNASPredictor(input_shape=(2, 3, 3), epochs=30, random_state=0).fit(X, y)
>>> m.predict(X[:3]).shape
(3,)
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors.base import Predictor, seed_from_random_state

__all__ = ["LOSSES", "ReNASPredictor", "pairwise_ranking_loss"]

log = logging.getLogger(__name__)

#: Pairwise ranking losses on the score difference ``d`` of a correctly ordered pair.
LOSSES: tuple[str, ...] = ("hinge", "logistic")


def pairwise_ranking_loss(
    scores: Any, targets: Any, *, loss: str = "hinge", margin: float = 0.1
) -> Any:
    """Mean pairwise ranking loss over all pairs ``(i, j)`` with ``targets[i] > targets[j]``.

    Parameters
    ----------
    scores, targets : torch.Tensor, shape (n,)
        Model outputs and true values.
    loss : {"hinge", "logistic"}
        ``max(0, margin - d)`` or ``log(1 + exp(-d))`` with ``d = scores[i] - scores[j]``.
    margin : float
        Hinge margin.

    Returns
    -------
    torch.Tensor
        Scalar; zero when no pair is ordered (all targets equal).

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([1.0, 2.0, 3.0])
    >>> float(pairwise_ranking_loss(y, y, loss="hinge", margin=0.5))
    0.0
    >>> float(pairwise_ranking_loss(-y, y, loss="hinge", margin=0.0)) > 0
    True
    """
    import torch
    import torch.nn.functional as F

    if loss not in LOSSES:
        raise OutOfDomainError(f"unknown ranking loss {loss!r}; allowed: {allowed(LOSSES)}")
    diff_y = targets[:, None] - targets[None, :]
    mask = diff_y > 0
    if not bool(mask.any()):
        return scores.sum() * 0.0
    d = (scores[:, None] - scores[None, :])[mask]
    per_pair = torch.clamp(margin - d, min=0.0) if loss == "hinge" else F.softplus(-d)
    return per_pair.mean()


@contextlib.contextmanager
def _torch_local(n_threads: int) -> Iterator[None]:
    """Use ``n_threads`` threads and deterministic kernels; restore the settings afterwards."""
    import torch

    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(max(1, int(n_threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)


def _build_net(
    shape: tuple[int, int, int], channels: Sequence[int], hidden: int, dropout: float
) -> Any:
    import torch.nn as nn

    layers: list[nn.Module] = []
    c_in = shape[0]
    for c in channels:
        layers += [
            nn.Conv2d(c_in, int(c), kernel_size=3, padding=1),
            nn.BatchNorm2d(int(c)),
            nn.ReLU(),
        ]
        c_in = int(c)
    layers += [
        nn.Flatten(),
        nn.Linear(c_in * shape[1] * shape[2], int(hidden)),
        nn.ReLU(),
        nn.Dropout(float(dropout)),
        nn.Linear(int(hidden), 1),
    ]
    return nn.Sequential(*layers)


class ReNASPredictor(Predictor):
    """ReNAS relativistic predictor: CNN on the feature tensor + pairwise ranking loss.

    Parameters
    ----------
    input_shape : tuple of int or None, default None
        ``(channels, height, width)`` of the tensor that each row of ``X`` flattens (NB101:
        ``(19, 7, 7)``); ``(height, width)`` means one channel. ``None``: flat-input mode,
        a row is a ``1 x 1 x d`` image.
    channels : tuple of int, default (16, 32, 32)
        Widths of the 3x3 convolutions.
    hidden : int, default 64
        Units of the fully connected layer.
    dropout : float, default 0.1
    epochs : int, default 100
    batch_size : int, default 64
        Pairs are formed inside each mini-batch.
    learning_rate : float, default 1e-3
        Adam's step size (cosine-annealed to 0).
    weight_decay : float, default 1e-4
    loss : {"hinge", "logistic"}, default "logistic"
    margin : float, default 0.1
        Hinge margin, in units of the (standardised) score.
    calibrate : bool, default True
        Map scores to the scale of ``y`` with a least-squares line on the training data.
    n_threads : int, default 1
        torch threads while fitting and predicting (restored afterwards).
    random_state : int, Generator or None, default None
        Seeds weight initialisation, shuffling and dropout (``None`` means seed 0).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40)[:, None] * np.ones((1, 4))
    >>> m = ReNASPredictor(epochs=40, random_state=0).fit(X, X[:, 0])
    >>> bool(m.predict(X[-1:])[0] > m.predict(X[:1])[0])
    True
    """

    def __init__(
        self,
        *,
        input_shape: tuple[int, ...] | None = None,
        channels: tuple[int, ...] = (16, 32, 32),
        hidden: int = 64,
        dropout: float = 0.1,
        epochs: int = 100,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        loss: str = "logistic",
        margin: float = 0.1,
        calibrate: bool = True,
        n_threads: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.input_shape = input_shape
        self.channels = channels
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.loss = loss
        self.margin = margin
        self.calibrate = calibrate
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = False
        return tags

    def _shape(self, n_features: int) -> tuple[int, int, int]:
        if self.input_shape is None:
            return (1, 1, n_features)
        shape = tuple(int(s) for s in self.input_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or math.prod(shape) != n_features:
            raise OutOfDomainError(
                f"input_shape {self.input_shape!r} does not fit rows of {n_features} features; "
                "allowed: None or a (channels, height, width) tuple whose product is the "
                "number of features"
            )
        return shape  # type: ignore[return-value]

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        if self.loss not in LOSSES:
            raise OutOfDomainError(
                f"unknown ranking loss {self.loss!r}; allowed: {allowed(LOSSES)}"
            )
        if int(self.epochs) < 1 or int(self.batch_size) < 2:
            raise OutOfDomainError(
                f"epochs must be >= 1 and batch_size >= 2; got {self.epochs} and {self.batch_size}"
            )
        shape = self._shape(X.shape[1])
        self.shape_ = shape
        self.x_mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.x_std_ = np.where(std > 0, std, 1.0)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        seed = seed_from_random_state(self.random_state)
        n = X.shape[0]
        with _torch_local(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = _build_net(shape, self.channels, self.hidden, self.dropout)
            xt = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32)).reshape(
                n, *shape
            )
            yt = torch.from_numpy(((y - self.y_mean_) / self.y_std_).astype(np.float32))
            opt = torch.optim.Adam(
                net.parameters(),
                lr=float(self.learning_rate),
                weight_decay=float(self.weight_decay),
            )
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.epochs))
            gen = torch.Generator().manual_seed(seed)
            bs = min(int(self.batch_size), n)
            net.train()
            for _ in range(int(self.epochs)):
                perm = torch.randperm(n, generator=gen)
                for start in range(0, n, bs):
                    idx = perm[start : start + bs]
                    if idx.numel() < 2:
                        continue
                    out = net(xt[idx]).squeeze(1)
                    loss = pairwise_ranking_loss(
                        out, yt[idx], loss=self.loss, margin=float(self.margin)
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                sched.step()
            net.eval()
            self.net_ = net
            raw = self._raw(X)
        self.calibration_ = (1.0, 0.0)
        if self.calibrate:
            target = (y - self.y_mean_) / self.y_std_
            var = float(raw.var())
            slope = float(np.cov(raw, target, bias=True)[0, 1] / var) if var > 0 else 0.0
            self.calibration_ = (slope, float(target.mean() - slope * raw.mean()))
        log.debug("ReNAS fit on %d cells of shape %s", n, shape)

    def _raw(self, X: np.ndarray) -> np.ndarray:
        import torch

        xt = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32)).reshape(
            X.shape[0], *self.shape_
        )
        outs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], 4096):
                outs.append(self.net_(xt[start : start + 4096]).squeeze(1).numpy())
        return np.concatenate(outs).astype(np.float64) if outs else np.zeros(0)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        with _torch_local(self.n_threads):
            raw = self._raw(X)
        if not self.calibrate:
            return raw
        slope, intercept = self.calibration_
        return (slope * raw + intercept) * self.y_std_ + self.y_mean_
