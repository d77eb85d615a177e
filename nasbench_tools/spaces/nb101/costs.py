"""Analytic parameter and FLOP counts of the network NAS-Bench-101 trained (no torch).

Network (facts from the official ``nasbench/lib/model_builder.py``, ``base_ops.py`` and
``config.py``):

* stem: 3x3 conv, 128 channels, no bias, then batch norm and ReLU;
* 3 stacks of 3 cells; before stacks 2 and 3 a 2x2 max-pool of stride 2 halves the side
  and the cells of that stack double the channels (128, 256, 512);
* inside a cell with ``C_in`` input and ``C`` output channels (``compute_vertex_channels``):
  the ``C`` output channels are split among the vertices that feed the output (in-degree
  of the output without the input edge), the first ``C mod d`` of them in vertex order
  getting one more; every other inner vertex takes the largest channel count among the
  inner vertices it feeds; an edge from the input to an inner vertex is a 1x1
  conv-bn-relu projection ``C_in -> c_v``; the output concatenates its inner inputs and,
  with an input -> output edge, adds a ``C_in -> C`` projection (with only that edge the
  output is that projection); ops are conv3x3-bn-relu / conv1x1-bn-relu (``c_v -> c_v``)
  and a 3x3 stride-1 max-pool (no parameters);
* all convolutions are bias-free; each batch norm has 2 trainable vectors (beta, gamma);
* global average pool and a dense layer (weights and bias) to the classes.

FLOPs convention: multiply-accumulates of the convolutions (``k*k*C_in*C_out*H*W``) and of
the dense layer (``512 * classes``); batch norm, ReLU, pooling, additions are not counted.
Reported in millions.

Examples
--------
>>> p, f = network_costs(np.array([2]), np.array([1]), np.array([0]), "cifar10")
>>> int(p[0])
882570
"""

from __future__ import annotations

import numpy as np

from nasbench_tools.errors import OutOfDomainError, allowed
from nasbench_tools.spaces.nb101.arrays import output_last
from nasbench_tools.spaces.nb101.ops import DATASETS, MAX_VERTICES

__all__ = [
    "NUM_MODULES_PER_STACK",
    "NUM_STACKS",
    "STEM_CHANNELS",
    "network_costs",
    "vertex_channels",
    "vertex_costs",
]

STEM_CHANNELS = 128
NUM_STACKS = 3
NUM_MODULES_PER_STACK = 3
#: Kernel side of the op codes 0, 1, 2 (0 for max-pool: no parameters, not counted).
_KERNEL = np.array([3, 1, 0, 0, 0, 0], dtype=np.int64)  # indexed by vertex kind
_IS_CONV = np.array([1, 1, 0, 0, 0, 0], dtype=np.int64)
_V = MAX_VERTICES


def _dataset(dataset: str) -> tuple[int, int]:
    if dataset not in DATASETS:
        raise OutOfDomainError(
            f"unknown dataset {dataset!r} for the NB101 cost model; allowed: {allowed(DATASETS)}"
        )
    return DATASETS[dataset]


def vertex_channels(matrices: np.ndarray, c_in: int, c_out: int) -> np.ndarray:
    """Official ``compute_vertex_channels`` for many output-last 7x7 matrices at once.

    Parameters
    ----------
    matrices : numpy.ndarray of shape (N, 7, 7)
        Output-last layout (pad vertices before the output have no edges).
    c_in, c_out : int
        Input and output channels of the cell.

    Returns
    -------
    numpy.ndarray of shape (N, 7), int64
        Channels of every vertex (0 for pad vertices).

    Examples
    --------
    >>> m = np.zeros((1, 7, 7), dtype=np.uint8)
    >>> m[0, 0, [1, 2, 3]] = 1; m[0, [1, 2, 3], 6] = 1
    >>> vertex_channels(m, 128, 128)[0].tolist()
    [128, 43, 43, 42, 0, 0, 128]
    """
    a = matrices.astype(np.int64)
    n = len(a)
    ch = np.zeros((n, _V), dtype=np.int64)
    ch[:, 0] = c_in
    ch[:, _V - 1] = c_out
    fan_in = a[:, 1 : _V - 1, _V - 1].sum(axis=1)
    safe = np.maximum(fan_in, 1)
    interior = c_out // safe
    remainder = c_out % safe
    for v in range(1, _V - 1):
        feeds = a[:, v, _V - 1] == 1
        extra = feeds & (remainder > 0)
        ch[:, v] = np.where(feeds, interior + extra, 0)
        remainder = remainder - extra
    for v in range(_V - 2, 0, -1):
        reach = (a[:, v, v + 1 : _V - 1] * ch[:, v + 1 : _V - 1]).max(axis=1, initial=0)
        ch[:, v] = np.where(a[:, v, _V - 1] == 1, ch[:, v], reach)
    return ch


def _module_costs(
    a: np.ndarray, kinds: np.ndarray, ch: np.ndarray, c_in: int, side: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-vertex params, MACs and element-wise work of one cell position (output-last)."""
    k = _KERNEL[kinds]
    conv = _IS_CONV[kinds]
    proj = a[:, 0, :].astype(np.int64)  # input -> v edges (v = 6: output projection)
    params = k * k * ch * ch + 2 * ch * conv + proj * (c_in * ch + 2 * ch)
    macs = (k * k * ch * ch + proj * c_in * ch) * side * side
    # element-wise work NASLib's counter adds: 3 per conv-bn-relu output element
    # (projections included), 9 per 3x3 max-pool output element
    elementwise = (3 * conv + 9 * (kinds == 2) + 3 * proj) * ch * side * side
    params[:, 0] = 0
    macs[:, 0] = 0
    elementwise[:, 0] = 0
    return params, macs, elementwise


def _positions(image_side: int) -> list[tuple[int, int, int]]:
    """(c_in, c_out, side) of the 9 cells in network order."""
    out = []
    c_prev = STEM_CHANNELS
    for s in range(NUM_STACKS):
        c = STEM_CHANNELS * 2**s
        side = image_side // 2**s
        for m in range(NUM_MODULES_PER_STACK):
            out.append((c_prev if m == 0 else c, c, side))
        c_prev = c
    return out


def _all_vertex_costs(
    num_vertices: np.ndarray, edge_bits: np.ndarray, op_code: np.ndarray, image_side: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, kinds = output_last(num_vertices, edge_bits, op_code)
    pos = _positions(image_side)
    params = np.zeros((len(a), len(pos), _V), dtype=np.int64)
    macs = np.zeros_like(params)
    elementwise = np.zeros_like(params)
    channels: dict[int, np.ndarray] = {}  # inner channels depend on c_out only
    for i, (c_in, c_out, side) in enumerate(pos):
        if c_out not in channels:
            channels[c_out] = vertex_channels(a, c_in, c_out)
        ch = channels[c_out].copy()
        ch[:, 0] = c_in
        params[:, i], macs[:, i], elementwise[:, i] = _module_costs(a, kinds, ch, c_in, side)
    return params, macs, elementwise


def vertex_costs(
    num_vertices: np.ndarray, edge_bits: np.ndarray, op_code: np.ndarray, dataset: str = "cifar10"
) -> tuple[np.ndarray, np.ndarray]:
    """Parameters and MACs of every vertex in each of the 9 cells of the network.

    The projection from the input into a vertex is charged to that vertex; the output
    vertex carries the input -> output projection; input and pad vertices carry 0.

    Parameters
    ----------
    num_vertices, edge_bits, op_code : numpy.ndarray of shape (N,)
        Packed cells.
    dataset : str
        Cost-model dataset.

    Returns
    -------
    params, macs : numpy.ndarray of shape (N, 9, 7), int64
        Output-last vertex layout, cells in network order.

    Examples
    --------
    >>> p, f = vertex_costs(np.array([2]), np.array([1]), np.array([0]))
    >>> p.shape, int(p[0, 0, 6])
    ((1, 9, 7), 16640)
    """
    _, image_side = _dataset(dataset)
    params, macs, _ = _all_vertex_costs(num_vertices, edge_bits, op_code, image_side)
    return params, macs


#: FLOP conventions of :func:`network_costs`.
FLOP_CONVENTIONS: tuple[str, ...] = ("macs", "naslib")


def network_costs(
    num_vertices: np.ndarray,
    edge_bits: np.ndarray,
    op_code: np.ndarray,
    dataset: str = "cifar10",
    convention: str = "macs",
) -> tuple[np.ndarray, np.ndarray]:
    """Trainable parameters and MFLOPs of whole networks, vectorised.

    Parameters
    ----------
    num_vertices, edge_bits, op_code : numpy.ndarray of shape (N,)
        Packed cells.
    dataset : str
        ``cifar10``, ``cifar10-valid``, ``cifar100`` or ``ImageNet16-120``.
    convention : {"macs", "naslib"}
        ``"macs"``: multiply-accumulates of convolutions and the dense layer.
        ``"naslib"``: additionally 3 per conv-bn-relu output element (stem and
        projections included), 9 per 3x3 max-pool output element, 4 per output element
        of the two 2x2 down-sampling pools (the dense bias is not counted); this reproduces the
        ``flops`` that NASLib published for NB101 (``zc_nasbench101.json``).

    Returns
    -------
    params : numpy.ndarray of shape (N,), int64
    mflops : numpy.ndarray of shape (N,), float64

    Examples
    --------
    >>> p, f = network_costs(np.array([2]), np.array([1]), np.array([0]), "cifar100")
    >>> int(p[0]) - 882570 == 90 * 513  # 90 more classes, 512 weights + 1 bias each
    True
    >>> round(float(f[0]), 3)
    137.808
    """
    classes, image_side = _dataset(dataset)
    if convention not in FLOP_CONVENTIONS:
        raise OutOfDomainError(
            f"unknown FLOP convention {convention!r}; allowed: {allowed(FLOP_CONVENTIONS)}"
        )
    vp, vm, ve = _all_vertex_costs(num_vertices, edge_bits, op_code, image_side)
    stem_params = 3 * 3 * 3 * STEM_CHANNELS + 2 * STEM_CHANNELS
    stem_macs = 3 * 3 * 3 * STEM_CHANNELS * image_side * image_side
    last = STEM_CHANNELS * 2 ** (NUM_STACKS - 1)
    dense_params = last * classes + classes
    dense_macs = last * classes
    params = vp.sum(axis=(1, 2)) + stem_params + dense_params
    macs = vm.sum(axis=(1, 2)) + stem_macs + dense_macs
    if convention == "naslib":
        extra = 3 * STEM_CHANNELS * image_side * image_side
        for s in range(1, NUM_STACKS):
            side = image_side // 2**s
            extra += 4 * STEM_CHANNELS * 2 ** (s - 1) * side * side
        macs = macs + ve.sum(axis=(1, 2)) + extra
    return params, macs / 1e6
