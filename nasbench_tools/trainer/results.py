"""A resumable, idempotent store of finished trainings (SQLite).

Every training has a deterministic key (:func:`job_key`: space, cell, dataset, recipe, seed),
so re-submitting the same job is a no-op and a result is stored at most once, whatever the
executor does (retries, a worker that died after finishing, a build restarted after a kill).
The database is committed after every result, so a killed build loses at most the runs that
were in flight.

Examples
--------
>>> import tempfile, pathlib
>>> from nasbench_tools.trainer.recipes import get_recipe
>>> db = ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite")
>>> job = Job(space="nb201", cell="|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
...           dataset="digits", recipe=get_recipe("quick-cpu"), seed=0)
>>> db.add(job, {"records": [], "params": 1})
True
>>> db.add(job, {"records": [], "params": 1}), len(db), job.key in db
(False, 1, True)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_tools.errors import NotInBenchmarkError, OutOfDomainError, allowed
from nasbench_tools.io import fault_point, open_sqlite
from nasbench_tools.trainer.recipes import Recipe

__all__ = ["KERNELS", "Job", "ResultsDB", "job_key"]


#: Training kernels: ``single`` (``loop.train_cell``, one network per process call),
#: ``packed`` (``packed.train_cell_seeds``, all seeds of a cell vectorised together) and
#: ``multiarch`` (``multiarch.train_cells_multiarch``, many cells x seeds in one grouped
#: network).
KERNELS: tuple[str, ...] = ("single", "packed", "multiarch")


def job_key(space: str, cell: str, dataset: str, recipe: Recipe, seed: int,
            kernel: str = "single") -> str:
    """Deterministic identifier of one training (sha1 of its canonical description).

    The kernel is part of the identity because the two kernels compute in another
    floating-point order (their results agree statistically, not bit for bit); ``single``
    keys have the form they had before kernels existed, so older databases stay valid.

    Examples
    --------
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> k = job_key("nb201", "c", "digits", get_recipe("quick-cpu"), 0)
    >>> k == job_key("nb201", "c", "digits", get_recipe("quick-cpu"), 0), len(k)
    (True, 40)
    >>> k == job_key("nb201", "c", "digits", get_recipe("quick-cpu"), 0, "packed")
    False
    """
    if kernel not in KERNELS:
        raise OutOfDomainError(f"unknown training kernel {kernel!r}; allowed: {allowed(KERNELS)}")
    parts: list[Any] = [space, cell, dataset, recipe.fingerprint(), int(seed)]
    if kernel != "single":
        parts.append(kernel)
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """One training to run: a cell (as its string) on a dataset with a recipe and a seed.

    Examples
    --------
    >>> from nasbench_tools.trainer.recipes import get_recipe
    >>> Job("nb201", "x", "digits", get_recipe("quick-cpu"), 1).seed
    1
    """

    space: str
    cell: str
    dataset: str
    recipe: Recipe
    seed: int
    data_root: str | None = None
    kernel: str = "single"

    @property
    def key(self) -> str:
        """The idempotency key (:func:`job_key`)."""
        return job_key(self.space, self.cell, self.dataset, self.recipe, self.seed, self.kernel)

    def pack_key(self) -> tuple[str, str, str, str, str | None, str]:
        """Jobs with equal ``pack_key`` can share one training of their kernel.

        ``packed``: jobs that differ only by seed. ``multiarch``: jobs of one space, dataset,
        recipe and data root whose networks have one skeleton (any NB201 cells; NB101 cells
        of one adjacency matrix): the cell field is then that shape signature.

        Examples
        --------
        >>> from nasbench_tools.trainer.recipes import get_recipe
        >>> r = get_recipe("quick-cpu")
        >>> a = Job("nb201", "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
        ...         "digits", r, 0, kernel="multiarch")
        >>> b = Job("nb201", "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        ...         "digits", r, 1, kernel="multiarch")
        >>> a.pack_key() == b.pack_key()
        True
        """
        cell = self.cell if self.kernel != "multiarch" else _shape_signature(self.space, self.cell)
        return (self.space, cell, self.dataset, self.recipe.fingerprint(), self.data_root,
                self.kernel)


def _shape_signature(space: str, cell: str) -> str:
    """What must be equal for two cells to share a multi-architecture pack."""
    if space != "nb101":
        return ""
    from nasbench_tools.spaces import get_space

    matrix = get_space(space).parse(cell).matrix
    return "".join(str(int(v)) for v in matrix.flatten()) + f"/{matrix.shape[0]}"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, space TEXT, cell TEXT, dataset TEXT,
    recipe TEXT, seed INTEGER, result TEXT, finished REAL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""
#: Columns of each table, in order (a file with others was written by another version).
_COLUMNS = {"runs": ["key", "space", "cell", "dataset", "recipe", "seed", "result", "finished"],
            "meta": ["name", "value"]}


class ResultsDB:
    """SQLite table ``runs(key PRIMARY KEY, space, cell, dataset, recipe, seed, result)``.

    Parameters
    ----------
    path : path
        Database file (created with its directory if absent).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A damaged or foreign file is refused here, naming it (FormatError).
        self._con = open_sqlite(self.path, schema=_SCHEMA, columns=_COLUMNS, timeout=60)

    def add(self, job: Job, result: dict[str, Any]) -> bool:
        """Store ``result`` of ``job``; return False (and store nothing) if it is already there."""
        cur = self._con.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job.key, job.space, job.cell, job.dataset, job.recipe.fingerprint(), job.seed,
             json.dumps(result), time.time()),
        )
        self._con.commit()
        fault_point("train.stored")
        return cur.rowcount == 1

    def add_all(self, items: Iterable[tuple[Job, dict[str, Any]]]) -> list[bool]:
        """Store ``(job, result)`` pairs in one transaction (all or none, e.g. the seeds of
        one packed training); per pair, whether it was new.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from nasbench_tools.trainer.recipes import get_recipe
        >>> db = ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite")
        >>> jobs = [Job("nb201", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "digits",
        ...             get_recipe("quick-cpu"), s) for s in (0, 1)]
        >>> db.add_all([(jobs[0], {"records": []})])
        [True]
        >>> db.add_all([(j, {"records": []}) for j in jobs])
        [False, True]
        """
        now = time.time()
        flags = []
        with self._con:
            for job, result in items:
                cur = self._con.execute(
                    "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job.key, job.space, job.cell, job.dataset, job.recipe.fingerprint(),
                     job.seed, json.dumps(result), now),
                )
                flags.append(cur.rowcount == 1)
        fault_point("train.stored")
        return flags

    def add_many(self, items: Iterable[tuple[Job, dict[str, Any]]]) -> int:
        """Store many ``(job, result)`` pairs in one transaction; return how many were new."""
        now = time.time()
        with self._con:
            cur = self._con.executemany(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(job.key, job.space, job.cell, job.dataset, job.recipe.fingerprint(), job.seed,
                  json.dumps(result), now) for job, result in items],
            )
        fault_point("train.stored")
        return int(cur.rowcount)

    def __contains__(self, key: object) -> bool:
        row = self._con.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def get(self, key: str) -> dict[str, Any]:
        """The stored result of ``key``; :class:`NotInBenchmarkError` if absent.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> ResultsDB(pathlib.Path(tempfile.mkdtemp()) / "r.sqlite").get("abc")
        Traceback (most recent call last):
        ...
        nasbench_tools.errors.NotInBenchmarkError: no finished training with key 'abc' in ...
        """
        row = self._con.execute("SELECT result FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotInBenchmarkError(f"no finished training with key {key!r} in {self.path}")
        return dict(json.loads(row[0]))

    def keys(self) -> list[str]:
        """All stored keys."""
        return [r[0] for r in self._con.execute("SELECT key FROM runs ORDER BY finished")]

    def rows(self, dataset: str | None = None) -> Iterator[tuple[str, str, Recipe, int, dict[str, Any]]]:
        """Iterate ``(cell, dataset, recipe, seed, result)`` of stored runs."""
        q = "SELECT cell, dataset, recipe, seed, result FROM runs"
        args: tuple[Any, ...] = ()
        if dataset is not None:
            q += " WHERE dataset = ?"
            args = (dataset,)
        for cell, ds, rec, seed, res in self._con.execute(q + " ORDER BY finished", args):
            yield cell, ds, Recipe.from_dict(json.loads(rec)), int(seed), json.loads(res)

    def set_meta(self, name: str, value: Any) -> None:
        """Store a JSON value under ``name`` (build settings)."""
        self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))
        self._con.commit()

    def get_meta(self, name: str) -> Any:
        """The JSON value stored under ``name``; :class:`NotInBenchmarkError` if absent."""
        row = self._con.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotInBenchmarkError(f"no build setting {name!r} in {self.path}")
        return json.loads(row[0])

    def missing(self, jobs: Iterable[Job]) -> list[Job]:
        """The jobs whose key is not stored yet, in the given order, without duplicates."""
        done = set(self.keys())
        out, seen = [], set()
        for j in jobs:
            k = j.key
            if k not in done and k not in seen:
                seen.add(k)
                out.append(j)
        return out

    def close(self) -> None:
        """Close the connection."""
        self._con.close()
