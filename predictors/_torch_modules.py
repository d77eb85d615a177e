"""torch modules of the neural predictors (imported lazily by :mod:`predictors._nets`).

They live at module level so that fitted estimators pickle.

Examples
--------
>>> import torch
>>> EnsembleLinear(2, 3, 4)(torch.zeros(2, 5, 3)).shape
torch.Size([2, 5, 4])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn as nn

__all__ = ["GCN", "DirectedGraphConv", "EnsembleLinear"]


class EnsembleLinear(nn.Module):
    """``members`` independent linear layers on input ``(members, batch, fan_in)``."""

    def __init__(self, members: int, fan_in: int, fan_out: int) -> None:
        super().__init__()
        bound = 1.0 / float(np.sqrt(max(fan_in, 1)))
        self.weight = nn.Parameter(torch.empty(members, fan_in, fan_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(members, 1, fan_out).uniform_(-bound, bound))

    def forward(self, x: Any) -> Any:
        return torch.baddbmm(self.bias, x, self.weight)


class DirectedGraphConv(nn.Module):
    """``(relu(A_f H W1) + relu(A_b H W2)) / 2`` then dropout (Wen et al.'s layer)."""

    def __init__(self, fan_in: int, fan_out: int, dropout: float) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.empty(fan_in, fan_out))
        self.w2 = nn.Parameter(torch.empty(fan_in, fan_out))
        nn.init.xavier_uniform_(self.w1)
        nn.init.xavier_uniform_(self.w2)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: Any, a_fwd: Any, a_bwd: Any) -> Any:
        out = (torch.relu(a_fwd @ (h @ self.w1)) + torch.relu(a_bwd @ (h @ self.w2))) / 2
        return self.drop(out)


class GCN(nn.Module):
    """Graph convolutions, mean over the cell's nodes, ReLU linear layer, linear output."""

    def __init__(
        self, n_in: int, hidden: int, n_layers: int, linear_hidden: int, dropout: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            DirectedGraphConv(n_in if i == 0 else hidden, hidden, dropout)
            for i in range(n_layers)
        )
        self.fc1 = nn.Linear(hidden if n_layers else n_in, linear_hidden, bias=False)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(linear_hidden, 1, bias=False)

    def forward(self, h: Any, a_fwd: Any, a_bwd: Any, mask: Any) -> Any:
        for layer in self.layers:
            h = layer(h, a_fwd, a_bwd)
        pooled = (h * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.fc2(self.drop(torch.relu(self.fc1(pooled)))).squeeze(1)
