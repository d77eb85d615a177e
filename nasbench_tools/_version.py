"""The version of nasbench-tools, in a module that imports nothing.

Re-exported as ``nasbench_tools.__version__``; lower floors (the store records it in every
file it writes) import it from here, not from the package root, whose lazy helpers import
the store (an import circle otherwise).

Examples
--------
>>> import nasbench_tools
>>> __version__ == nasbench_tools.__version__
True
"""

from __future__ import annotations

__version__ = "0.1.0"
