"""Training recipes as named, immutable presets.

A :class:`Recipe` fixes everything a training run depends on except the cell, the dataset and
the seed: optimiser, learning-rate schedule, weight decay, batch size, number of epochs,
augmentation and the network size. The official recipes are registered under stable names:

========================  ===============================================================
``nb201-200``              NAS-Bench-201 / NATS-Bench topology ``hp=200``: SGD, Nesterov
                           momentum 0.9, lr 0.1 with cosine decay to 0, weight decay 5e-4,
                           batch 256, 200 epochs, random crop (pad 4) and horizontal flip.
``nb201-12``               The same schedule squeezed into 12 epochs (``hp=12``).
``nb101-4`` .. ``-108``    NAS-Bench-101: RMSProp (decay 0.9, momentum 0.9, epsilon 1.0),
                           lr 0.2 with cosine decay, weight decay 1e-4, batch 256, epoch
                           budgets 4, 12, 36 and 108.
``quick-cpu``              A small CPU run (NB201 recipe shape, batch 64, 4 epochs).
``embedded``               The recipe of the benchmark shipped in ``data/``: the NB201
                           recipe with batch 64, 2 epochs, no augmentation, network
                           C=8, N=1 (dead edges pruned); see ``docs/trainer.md``.
``embedded-nb101``         The recipe of the embedded NB101 benchmark: the NB101 recipe
                           (RMSProp, lr 0.2, cosine) with batch 64, 2 epochs, no
                           augmentation, precise BN, network C=8, 1 module per stack,
                           3 stacks; chosen by the pilot in ``docs/trainer.md``.
========================  ===============================================================

Examples
--------
>>> r = get_recipe("nb201-200")
>>> (r.optimizer, r.lr, r.momentum, r.nesterov, r.weight_decay, r.batch_size, r.epochs)
('sgd', 0.1, 0.9, True, 0.0005, 256, 200)
>>> get_recipe("quick-cpu", epochs=2).epochs
2
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasbench_tools.errors import OutOfDomainError, allowed

if TYPE_CHECKING:  # torch is imported where it is used: the preset names stay torch-free
    import torch

__all__ = [
    "OPTIMIZERS",
    "PRESETS",
    "SCHEDULES",
    "Recipe",
    "get_recipe",
    "make_optimizer",
    "make_scheduler",
]


@dataclass(frozen=True)
class Recipe:
    """Every hyper-parameter of one training run except cell, dataset and seed.

    Parameters
    ----------
    name : str
        Preset name (kept for the record; ``replace`` keeps it).
    optimizer : str
        Key of :data:`OPTIMIZERS` (``"sgd"`` or ``"rmsprop"``).
    lr : float
        Initial learning rate.
    momentum : float
        Momentum of SGD / RMSProp.
    nesterov : bool
        Nesterov momentum (SGD only).
    weight_decay : float
        L2 weight decay.
    batch_size : int
        Images per step.
    epochs : int
        Length of the schedule (the ``budget`` fidelity).
    schedule : str
        Key of :data:`SCHEDULES`; the learning rate is updated after every step.
    eta_min : float
        Final learning rate of the cosine schedule.
    rmsprop_alpha, rmsprop_eps : float
        RMSProp decay and epsilon (NB101: 0.9 and 1.0).
    bn_recalibrate : bool
        Before each evaluation, recompute every BatchNorm's running statistics as the exact
        average over the training split with the current weights ("precise BN"). Off in the
        official recipes; it removes the noise of running averages after few steps.
    augment : bool
        Random crop with 4-pixel zero padding and horizontal flip of training images (the
        NB101/NB201 CIFAR augmentation); off for digit datasets, where a flip changes the class.
    network : dict
        Overrides passed to ``build_network`` (``C``, ``N``, ...).

    Examples
    --------
    >>> r = Recipe(name="mine", optimizer="sgd", lr=0.05, epochs=3)
    >>> r.replace(lr=0.01).lr
    0.01
    """

    name: str = "custom"
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    batch_size: int = 256
    epochs: int = 200
    schedule: str = "cosine"
    eta_min: float = 0.0
    rmsprop_alpha: float = 0.9
    rmsprop_eps: float = 1.0
    augment: bool = True
    bn_recalibrate: bool = False
    network: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise OutOfDomainError(
                f"unknown optimizer {self.optimizer!r}; allowed: {allowed(OPTIMIZERS)}"
            )
        if self.schedule not in SCHEDULES:
            raise OutOfDomainError(
                f"unknown schedule {self.schedule!r}; allowed: {allowed(SCHEDULES)}"
            )
        for what, value in (("epochs", self.epochs), ("batch_size", self.batch_size)):
            if int(value) != value or value < 1:
                raise OutOfDomainError(f"{what} must be a positive integer; got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise OutOfDomainError(f"lr must be a positive finite number; got {self.lr!r}")

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed (unknown names raise ``OutOfDomainError``).

        Examples
        --------
        >>> get_recipe("nb201-12").replace(batch_size=64).batch_size
        64
        """
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise OutOfDomainError(f"unknown recipe field(s) {bad}; allowed: {allowed(sorted(names))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for checkpoints and benchmark metadata).

        Examples
        --------
        >>> Recipe.from_dict(get_recipe("nb101-108").to_dict()) == get_recipe("nb101-108")
        True
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    def fingerprint(self) -> str:
        """Canonical JSON text of the recipe: equal recipes give equal text.

        Examples
        --------
        >>> get_recipe("quick-cpu").fingerprint() == get_recipe("quick-cpu").fingerprint()
        True
        """
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def __hash__(self) -> int:
        return hash(self.fingerprint())


def _sgd(params: Iterable[torch.nn.Parameter], r: Recipe) -> torch.optim.Optimizer:
    import torch

    return torch.optim.SGD(
        params, lr=r.lr, momentum=r.momentum, nesterov=r.nesterov, weight_decay=r.weight_decay
    )


def _rmsprop(params: Iterable[torch.nn.Parameter], r: Recipe) -> torch.optim.Optimizer:
    import torch

    # torch adds eps outside the square root, TensorFlow (NB101) inside; with eps=1.0 the
    # difference is small and documented in docs/trainer.md.
    return torch.optim.RMSprop(
        params,
        lr=r.lr,
        alpha=r.rmsprop_alpha,
        eps=r.rmsprop_eps,
        momentum=r.momentum,
        weight_decay=r.weight_decay,
    )


#: Optimiser name -> factory ``(parameters, recipe) -> torch optimizer``.
OPTIMIZERS: dict[str, Callable[[Iterable[torch.nn.Parameter], Recipe], torch.optim.Optimizer]] = {
    "sgd": _sgd,
    "rmsprop": _rmsprop,
}


def _cosine(opt: torch.optim.Optimizer, r: Recipe, total_steps: int) -> Any:
    import torch

    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps, eta_min=r.eta_min)


def _constant(opt: torch.optim.Optimizer, r: Recipe, total_steps: int) -> Any:
    import torch

    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


#: Schedule name -> factory ``(optimizer, recipe, total_steps) -> per-step scheduler``.
SCHEDULES: dict[str, Callable[[torch.optim.Optimizer, Recipe, int], Any]] = {
    "cosine": _cosine,
    "constant": _constant,
}


def make_optimizer(params: Iterable[torch.nn.Parameter], recipe: Recipe) -> torch.optim.Optimizer:
    """Build the recipe's optimiser over ``params``.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 2)
    >>> type(make_optimizer(net.parameters(), get_recipe("nb101-4"))).__name__
    'RMSprop'
    """
    return OPTIMIZERS[recipe.optimizer](params, recipe)


def make_scheduler(opt: torch.optim.Optimizer, recipe: Recipe, steps_per_epoch: int) -> Any:
    """Build the recipe's per-step learning-rate scheduler over the whole schedule.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(2, 2)
    >>> r = get_recipe("nb201-12")
    >>> opt = make_optimizer(net.parameters(), r)
    >>> sched = make_scheduler(opt, r, steps_per_epoch=10)
    >>> sched.T_max
    120
    """
    return SCHEDULES[recipe.schedule](opt, recipe, max(1, steps_per_epoch * recipe.epochs))


_NB201 = Recipe(name="nb201-200", optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True,
                weight_decay=5e-4, batch_size=256, epochs=200, augment=True)
_NB101 = Recipe(name="nb101-108", optimizer="rmsprop", lr=0.2, momentum=0.9, nesterov=False,
                weight_decay=1e-4, batch_size=256, epochs=108, rmsprop_alpha=0.9,
                rmsprop_eps=1.0, augment=True)

#: Preset name -> recipe.
PRESETS: dict[str, Recipe] = {
    "nb201-200": _NB201,
    "nb201-12": _NB201.replace(name="nb201-12", epochs=12),
    **{f"nb101-{e}": _NB101.replace(name=f"nb101-{e}", epochs=e) for e in (4, 12, 36, 108)},
    "quick-cpu": _NB201.replace(name="quick-cpu", batch_size=64, epochs=4, augment=False,
                                network={"C": 8, "N": 1}),
    # Chosen by the pilot documented in docs/trainer.md (split-half Kendall tau on digits).
    "embedded": _NB201.replace(name="embedded", batch_size=64, epochs=2, augment=False,
                               network={"C": 8, "N": 1, "prune": True}),
    # Chosen by the NB101 pilot in docs/trainer.md. Precise BN is needed: with NB101's
    # BatchNorm momentum (TF 0.997) the running statistics of a 48-step training are still
    # near their initial values and every network evaluates at chance.
    "embedded-nb101": _NB101.replace(name="embedded-nb101", batch_size=64, epochs=2,
                                     augment=False, bn_recalibrate=True,
                                     network={"C": 8, "N": 1, "num_stacks": 3}),
}


def get_recipe(name: str | Recipe, **overrides: Any) -> Recipe:
    """Look up a preset by name and apply ``overrides``.

    Parameters
    ----------
    name : str or Recipe
        A key of :data:`PRESETS`, or a recipe (returned with the overrides applied).
    **overrides
        Field changes, e.g. ``epochs=3``; ``None`` values are ignored so CLI options that
        were not given can be passed straight through.

    Returns
    -------
    Recipe

    Raises
    ------
    OutOfDomainError
        Unknown preset or field.

    Examples
    --------
    >>> get_recipe("nb101-36").epochs
    36
    >>> get_recipe("nb201-200", lr=None).lr
    0.1
    """
    if isinstance(name, Recipe):
        base = name
    else:
        if name not in PRESETS:
            raise OutOfDomainError(f"unknown recipe preset {name!r}; allowed: {allowed(PRESETS)}")
        base = PRESETS[name]
    changes = {k: v for k, v in overrides.items() if v is not None}
    return base.replace(**changes) if changes else base
