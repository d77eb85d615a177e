"""GCN neural predictor (Wen et al., "Neural Predictor for Neural Architecture Search").

Wen, Liu, Chen, Li, Bender and Kindermans (ECCV 2020) regress the accuracy of a cell with
a graph convolutional network over its op DAG: node features are one-hot ops, each layer
averages a propagation along the edges and one against them (the graph is directed),
``H' = (relu(A_n H W1) + relu(A_n^T H W2)) / 2`` with ``A_n`` the row-normalised adjacency
plus self-loops, followed by dropout; the node embeddings are averaged over the cell's
nodes and a fully connected layer gives the prediction. The settings below are those of
the PyTorch reproduction the NASLib baseline cites (ultmaster/neuralpredictor.pytorch:
3 GCN layers of 144 units, a 128-unit linear layer without bias, dropout 0.1, Adam with
learning rate 1e-4 and weight decay 1e-3, cosine schedule, 300 epochs, batch size 10,
MSE on standardised targets).

Inputs are flat rows in one of the :data:`LAYOUTS`: the upper triangle of the ``n x n``
adjacency (row-major, ``n (n - 1) / 2`` values) followed by the one-hot op of each inner
node (``(n - 2) x k`` values). Node features are ``[is_input, is_output, op one-hot]``;
nodes without an op (NB101 padding) and without links are left out of the mean. The
layouts fit the project's encodings:

``"nb101"``
    NAS-Bench-101 ``adjacency_onehot`` (36 values: 7 nodes, 3 ops), feature set ``onehot``.
``"nb201"``
    NAS-Bench-201 ``gbdt`` (58 values): the pruned op-labelled DAG with 8 nodes (input,
    the 6 edges, output) and 5 ops, feature set ``gbdt``.
``"nb201-onehot"``
    NAS-Bench-201 ``adjacency_onehot`` (30 values, feature set ``onehot``): the same 8
    nodes with the fixed links of the full DAG (``none`` is then an op like the others).

``layout="auto"`` picks the layout whose width equals the number of features;
``layout=None`` reads a row as one node with ``d`` features (the GCN degenerates to an
MLP; scikit-learn's estimator checks use it).

Examples
--------
>>> import numpy as np
>>> from nasbench_tools.spaces import get_space
>>> space = get_space("nb201")
>>> cells = [space.sample(np.random.default_rng(i)) for i in range(60)]
>>> X = space.encode(cells, "gbdt")
>>> y = np.array([c.ops.count("nor_conv_3x3") for c in cells], dtype=float)
>>> m = GCNPredictor(epochs=20, random_state=0).fit(X, y)
>>> m.layout_.n_nodes, m.predict(X[:3]).shape
(8, (3,))
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from predictors._nets import Standardizer, torch_local
from predictors.base import Predictor, seed_from_random_state

__all__ = ["FIXED_ADJACENCY", "LAYOUTS", "GCNPredictor", "GraphLayout", "graph_tensors"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphLayout:
    """Flat row = upper triangle of an ``n_nodes`` adjacency + one-hot ops of inner nodes.

    Examples
    --------
    >>> GraphLayout(7, 3).width
    36
    """

    n_nodes: int
    n_ops: int
    fixed: str | None = None

    @property
    def width(self) -> int:
        n = self.n_nodes
        tri = 0 if self.fixed else n * (n - 1) // 2
        return tri + (n - 2) * self.n_ops


@functools.cache
def _nb201_dag() -> np.ndarray:
    """Upper triangle of the 8-node NB201 op DAG with every edge live (fixed links)."""
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    cell = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                       "nor_conv_3x3~1|nor_conv_3x3~2|")
    return np.asarray(space.encode([cell], "gbdt"), dtype=np.float64)[0, :28]


#: Fixed adjacencies (upper triangles) of layouts whose rows hold ops only.
FIXED_ADJACENCY: dict[str, Callable[[], np.ndarray]] = {"nb201": _nb201_dag}


#: Named layouts of the project's encodings (see the module docstring).
LAYOUTS: dict[str, GraphLayout] = {
    "nb101": GraphLayout(7, 3),
    "nb201": GraphLayout(8, 5),
    "nb201-onehot": GraphLayout(8, 5, fixed="nb201"),
}


def graph_tensors(X: np.ndarray, layout: GraphLayout | None) -> tuple[np.ndarray, np.ndarray]:
    """Node features ``(n, nodes, f)`` and adjacency ``(n, nodes, nodes)`` of flat rows.

    With ``layout=None`` each row is one node without edges.

    Examples
    --------
    >>> X = np.zeros((1, 36)); X[0, 0] = 1.0; X[0, 21] = 1.0
    >>> h, a = graph_tensors(X, LAYOUTS["nb101"])
    >>> h.shape, a.shape, float(a[0, 0, 1]), h[0, 1].tolist()
    ((1, 7, 5), (1, 7, 7), 1.0, [0.0, 0.0, 1.0, 0.0, 0.0])
    """
    n = X.shape[0]
    if layout is None:
        return X[:, None, :].copy(), np.zeros((n, 1, 1))
    v, k = layout.n_nodes, layout.n_ops
    iu = np.triu_indices(v, k=1)
    n_tri = len(iu[0])
    adj = np.zeros((n, v, v))
    if layout.fixed:
        adj[:, iu[0], iu[1]] = FIXED_ADJACENCY[layout.fixed]()
        n_tri = 0
    else:
        adj[:, iu[0], iu[1]] = X[:, :n_tri]
    feats = np.zeros((n, v, k + 2))
    feats[:, 0, 0] = 1.0
    feats[:, v - 1, 1] = 1.0
    feats[:, 1 : v - 1, 2:] = X[:, n_tri:].reshape(n, v - 2, k)
    return feats, adj


def _resolve_layout(layout: str | None, n_features: int) -> GraphLayout | None:
    if layout is None:
        return None
    if layout == "auto":
        fits = [lay for lay in LAYOUTS.values() if lay.width == n_features]
        if len(fits) != 1:
            raise OutOfDomainError(
                f"layout='auto' found no graph layout {n_features} features wide; allowed "
                f"widths: {allowed({k: v.width for k, v in LAYOUTS.items()}.values())} "
                "(or layout=None for flat rows)"
            )
        return fits[0]
    if layout not in LAYOUTS:
        raise OutOfDomainError(
            f"unknown graph layout {layout!r}; allowed: {allowed(['auto', *LAYOUTS])} or None"
        )
    lay = LAYOUTS[layout]
    if lay.width != n_features:
        raise OutOfDomainError(
            f"layout {layout!r} needs {lay.width} features per row, got {n_features}"
        )
    return lay


def _build_gcn(n_in: int, hidden: int, n_layers: int, linear_hidden: int, dropout: float) -> Any:
    from predictors._torch_modules import GCN

    return GCN(n_in, hidden, n_layers, linear_hidden, dropout)


def _row_normalised(adj: Any) -> Any:
    import torch

    a = adj + torch.eye(adj.shape[-1], dtype=adj.dtype)
    return a / a.sum(-1, keepdim=True)


class GCNPredictor(Predictor):
    """Wen et al.'s GCN regressor on the op DAG of a cell.

    Parameters
    ----------
    layout : {"auto", "nb101", "nb201"} or None, default "auto"
        How a flat row is read (:data:`LAYOUTS`); ``None``: one node with all features.
    gcn_layers : int, default 3
    hidden : int, default 144
        Units of each graph convolution.
    linear_hidden : int, default 128
    dropout : float, default 0.1
    epochs : int, default 300
    batch_size : int, default 10
    learning_rate : float, default 1e-4
        Adam's step size, cosine-annealed to 0.
    weight_decay : float, default 1e-3
    n_threads : int, default 1
    random_state : int, Generator or None, default None

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(0, 1, 40)[:, None] * np.ones((1, 3))
    >>> m = GCNPredictor(layout=None, epochs=30, learning_rate=1e-2, random_state=0)
    >>> bool(m.fit(X, X[:, 0]).predict(X[-1:])[0] > m.predict(X[:1])[0])
    True
    """

    def __init__(
        self,
        *,
        layout: str | None = "auto",
        gcn_layers: int = 3,
        hidden: int = 144,
        linear_hidden: int = 128,
        dropout: float = 0.1,
        epochs: int = 300,
        batch_size: int = 10,
        learning_rate: float = 1e-4,
        weight_decay: float = 1e-3,
        n_threads: int = 1,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.layout = layout
        self.gcn_layers = gcn_layers
        self.hidden = hidden
        self.linear_hidden = linear_hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = False
        return tags

    def _tensors(self, X: np.ndarray) -> tuple[Any, Any, Any, Any]:
        import torch

        feats, adj = graph_tensors(X, self.layout_)
        mask = (feats.sum(2) > 0) | (adj.sum(1) > 0) | (adj.sum(2) > 0)
        if self.layout_ is None:
            mask = np.ones(mask.shape, dtype=bool)
        h = torch.from_numpy(((feats - self.x_mean_) / self.x_scale_).astype(np.float32))
        a = torch.from_numpy(adj.astype(np.float32))
        return (
            h,
            _row_normalised(a),
            _row_normalised(a.transpose(1, 2)),
            torch.from_numpy(mask.astype(np.float32)),
        )

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        if min(int(self.epochs), int(self.batch_size)) < 1 or int(self.gcn_layers) < 0:
            raise OutOfDomainError(
                "epochs and batch_size must be >= 1 and gcn_layers >= 0; got "
                f"{self.epochs}, {self.batch_size}, {self.gcn_layers}"
            )
        self.layout_ = _resolve_layout(self.layout, X.shape[1])
        feats, _ = graph_tensors(X, self.layout_)
        # graph inputs are one-hot (left as they are); flat rows are standardised
        if self.layout_ is None:
            s = Standardizer.fit(feats[:, 0, :])
            self.x_mean_, self.x_scale_ = s.mean, s.scale
        else:
            self.x_mean_, self.x_scale_ = np.zeros(feats.shape[2]), np.ones(feats.shape[2])
        self.y_scale_ = Standardizer.fit(y[:, None])
        seed = seed_from_random_state(self.random_state)
        n = X.shape[0]
        with torch_local(self.n_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = _build_gcn(
                feats.shape[2],
                int(self.hidden),
                int(self.gcn_layers),
                int(self.linear_hidden),
                float(self.dropout),
            )
            h, af, ab, mask = self._tensors(X)
            yt = torch.from_numpy(self.y_scale_.transform(y[:, None])[:, 0].astype(np.float32))
            opt = torch.optim.Adam(
                net.parameters(),
                lr=float(self.learning_rate),
                weight_decay=float(self.weight_decay),
            )
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.epochs))
            gen = torch.Generator().manual_seed(seed)
            bs = max(1, min(int(self.batch_size), n))
            net.train()
            for _ in range(int(self.epochs)):
                perm = torch.randperm(n, generator=gen)
                for start in range(0, n, bs):
                    idx = perm[start : start + bs]
                    loss = torch.mean((net(h[idx], af[idx], ab[idx], mask[idx]) - yt[idx]) ** 2)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                sched.step()
            net.eval()
        self.net_ = net
        log.debug("GCN fit on %d cells (layout %s)", n, self.layout_)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch_local(self.n_threads), torch.no_grad():
            outs = []
            for start in range(0, X.shape[0], 4096):
                h, af, ab, mask = self._tensors(X[start : start + 4096])
                outs.append(self.net_(h, af, ab, mask).numpy())
        raw = np.concatenate(outs).astype(np.float64) if outs else np.zeros(0)
        return self.y_scale_.inverse(raw[:, None])[:, 0]
