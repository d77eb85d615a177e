"""Small plotting helpers shared by every floor: headless pyplot and atomic PNG writes.

matplotlib is imported only when a plot is drawn, so importing this module is free.

Examples
--------
>>> import tempfile, pathlib
>>> plt = pyplot()
>>> fig, ax = plt.subplots()
>>> save_png(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png").suffix
'.png'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nasbench_tools.io import atomic_path

__all__ = ["pyplot", "save_png"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically), close it and return the path."""
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    pyplot().close(fig)
    return target
