"""BANANAS: an ensemble of feed-forward networks on the path encoding (White et al.).

White, Neiswanger and Savani, "BANANAS: Bayesian Optimization with Neural Architectures
for Neural Architecture Search" (AAAI 2021). The predictor is an ensemble of five
fully connected ReLU networks, each trained from its own random initialisation on the
path encoding (``space.encode(cells, "path")``, the ``path`` feature set) with the mean
absolute error; the ensemble's mean is the prediction and its spread the uncertainty
used by the acquisition function (independent Thompson sampling,
:func:`nasbench_tools.search.predictor_guided.its_acquisition`).

Defaults are the settings of the authors' code (naszilla/bananas, ``params.py``, NAS-Bench-101
``meta_neuralnet_params``): 10 layers of width 20, Adam with learning rate 0.01
(``beta_2 = 0.99``), batch size 32, 150 epochs, MAE loss, ensemble of 5. For
NAS-Bench-201 the same file uses 10 layers of width 200, learning rate 0.001 and 200
epochs (registered as ``bananas201``). One deviation: the targets are standardised
(mean 0, std 1) before training and mapped back in ``predict``, so one learning rate
serves accuracies in percent and in fractions.

The five members are trained at once as one batched module (``torch.baddbmm`` over the
member axis); each member draws its own mini-batches, so they stay independent.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.integers(0, 2, size=(100, 6)).astype(float)
>>> y = X @ np.arange(6.0)
>>> m = BANANASPredictor(epochs=40, random_state=0).fit(X, y)
>>> m.predict_ensemble(X[:2]).shape
(5, 2)
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors._nets import Standardizer, ensemble_mlp, torch_local
from predictors.base import Predictor, seed_from_random_state

__all__ = ["BANANAS_LOSSES", "BANANASPredictor"]

log = logging.getLogger(__name__)

#: Training losses on standardised targets.
BANANAS_LOSSES: tuple[str, ...] = ("mae", "mse")


class BANANASPredictor(Predictor):
    """Ensemble of ReLU MLPs (BANANAS's meta neural network).

    Parameters
    ----------
    n_ensemble : int, default 5
        Independent networks.
    n_layers : int, default 10
        Hidden layers per network.
    width : int, default 20
        Units per hidden layer.
    epochs : int, default 150
    batch_size : int, default 32
    learning_rate : float, default 0.01
        Adam's step size (``betas=(0.9, 0.99)`` as in the authors' code).
    loss : {"mae", "mse"}, default "mae"
    n_threads : int, default 1
        torch threads while fitting and predicting (restored afterwards).
    random_state : int, Generator or None, default None
        Seeds initialisation and mini-batches (``None`` means seed 0).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40)[:, None] * np.ones((1, 3))
    >>> m = BANANASPredictor(n_ensemble=2, epochs=60, random_state=0).fit(X, X[:, 0])
    >>> bool(m.predict(X[-1:])[0] > m.predict(X[:1])[0])
    True
    """

    def __init__(
        self,
        *,
        n_ensemble: int = 5,
        n_layers: int = 10,
        width: int = 20,
        epochs: int = 150,
        batch_size: int = 32,
        learning_rate: float = 0.01,
        loss: str = "mae",
        n_threads: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_ensemble = n_ensemble
        self.n_layers = n_layers
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.loss = loss
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        if self.loss not in BANANAS_LOSSES:
            raise OutOfDomainError(
                f"unknown BANANAS loss {self.loss!r}; allowed: {allowed(BANANAS_LOSSES)}"
            )
        if min(int(self.n_ensemble), int(self.epochs), int(self.batch_size)) < 1 or int(
            self.n_layers
        ) < 0:
            raise OutOfDomainError(
                "n_ensemble, epochs and batch_size must be >= 1 and n_layers >= 0; got "
                f"{self.n_ensemble}, {self.epochs}, {self.batch_size}, {self.n_layers}"
            )
        self.y_scale_ = Standardizer.fit(y[:, None])
        seed = seed_from_random_state(self.random_state)
        n, members = X.shape[0], int(self.n_ensemble)
        with torch_local(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = ensemble_mlp(members, X.shape[1], (int(self.width),) * int(self.n_layers))
            xt = torch.from_numpy(X.astype(np.float32))
            yt = torch.from_numpy(self.y_scale_.transform(y[:, None]).astype(np.float32))
            opt = torch.optim.Adam(
                net.parameters(), lr=float(self.learning_rate), betas=(0.9, 0.99)
            )
            gen = torch.Generator().manual_seed(seed)
            bs = max(1, min(int(self.batch_size), n))
            net.train()
            for _ in range(int(self.epochs)):
                perms = torch.stack([torch.randperm(n, generator=gen) for _ in range(members)])
                for start in range(0, n, bs):
                    idx = perms[:, start : start + bs]  # (members, b)
                    err = net(xt[idx]) - yt[idx]
                    per_member = (err.abs() if self.loss == "mae" else err**2).mean(dim=(1, 2))
                    opt.zero_grad()
                    per_member.sum().backward()
                    opt.step()
            net.eval()
        self.net_ = net
        log.debug("BANANAS fit: %d members on %d cells", members, n)

    def predict_ensemble(self, X: Any) -> np.ndarray:
        """Each member's prediction, shape ``(n_ensemble, n)``, on the scale of ``y``."""
        import torch

        X_ = self._validate_predict(X)
        with torch_local(self.n_threads), torch.no_grad():
            xt = torch.from_numpy(X_.astype(np.float32))
            out = self.net_(xt.unsqueeze(0).expand(int(self.n_ensemble), -1, -1))
        raw = out.squeeze(2).numpy().astype(np.float64)
        return self.y_scale_.inverse(raw[:, :, None])[:, :, 0]

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_ensemble(X).mean(axis=0)
