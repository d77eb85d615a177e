"""NAS-Bench-201 Cell: construction, validation, identifiers, index table."""

from __future__ import annotations

import bz2
import csv
import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from nasbench_tools.errors import FormatError, NotInBenchmarkError, OutOfDomainError
from nasbench_tools.spaces import get_space
from nasbench_tools.spaces.nb201 import OPS, SPACE, Cell, IndexTable

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def test_from_string_ops_and_round_trip() -> None:
    cell = Cell.from_string(BEST)
    assert cell.ops == (
        "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect",
    )
    assert cell.to_string() == BEST
    assert str(cell) == BEST
    assert Cell(cell.ops) == cell
    assert eval(repr(cell)) == cell


def test_ops_order_is_the_contract() -> None:
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def test_code_formula_first_edge_most_significant() -> None:
    assert Cell(("none",) * 6).code == 0
    assert Cell(("skip_connect",) + ("none",) * 5).code == 5**5
    assert Cell(("none",) * 5 + ("avg_pool_3x3",)).code == 4
    assert Cell(("avg_pool_3x3",) * 6).code == 15624


def test_every_cell_round_trips_through_all_identifiers() -> None:
    for cell in SPACE.all_cells():
        assert Cell.from_string(cell.to_string()) == cell
        assert Cell.from_code(cell.code) == cell
        assert Cell.from_naslib_indices(cell.naslib_indices()) == cell
        assert Cell.from_op_indices(cell.op_indices()) == cell
    assert len(set(SPACE.all_cells())) == 15625
    assert [c.code for c in SPACE.all_cells()] == list(range(15625))


def test_immutable_and_hashable() -> None:
    cell = Cell.from_string(BEST)
    with pytest.raises(AttributeError):
        cell.ops = ("none",) * 6  # type: ignore[misc]
    assert {cell: 1}[Cell.from_string(BEST)] == 1
    assert pickle.loads(pickle.dumps(cell)) == cell


def test_list_input_is_frozen_into_a_tuple() -> None:
    ops = ["none"] * 6
    cell = Cell(ops)  # type: ignore[arg-type]
    ops[0] = "skip_connect"
    assert cell.ops == ("none",) * 6


MALFORMED = [
    "",
    "|none~0|",
    "|none~0|+|none~0|none~1|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|",  # node 3 has two edges
    "|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",  # node 1 has two
    "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",  # wrong input index
    "|none~0|+|none~1|none~0|+|none~0|none~1|none~2|",  # inputs out of order
    "|none~0|+|none~0|none~1|+|none~0|none~2|none~1|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~3|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~-1|",
    "|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # unknown op
    "|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|NONE~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # case matters
    "|none~0|+|none~0|none~1|+|none~0|none~1|max_pool_3x3~2|",
    "none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # missing leading bar
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2",  # missing trailing bar
    "|none0|+|none~0|none~1|+|none~0|none~1|none~2|",  # missing ~
    "|none~0~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # two ~
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2| ",  # trailing space
    " |none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|none~0|+|none~0| none~1|+|none~0|none~1|none~2|",
    "|none~0|+|none~0||none~1|+|none~0|none~1|none~2|",  # empty edge
    "|none~0|++|none~0|none~1|+|none~0|none~1|none~2|",
    "|~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # empty op
    "|none~a|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|none~00|+|none~0|none~1|+|none~0|none~1|none~2|",
    "8:16:24:32:64",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_strings_raise_with_allowed_values(text: str) -> None:
    with pytest.raises(OutOfDomainError) as info:
        Cell.from_string(text)
    message = str(info.value)
    assert text in message or repr(text) in message
    assert any(word in message for word in ("allowed", "must", "exactly", "form"))


def test_unknown_op_message_lists_the_ops() -> None:
    with pytest.raises(OutOfDomainError, match="nor_conv_3x3"):
        Cell.from_string("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")


@pytest.mark.parametrize(
    "bad",
    [("none",) * 5, ("none",) * 7, ("none",) * 5 + ("conv",), "none" * 6, 7, (1, 2, 3, 4, 5, 6)],
)
def test_bad_constructor_arguments(bad: object) -> None:
    with pytest.raises(OutOfDomainError):
        Cell(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 15625, 2.0, True, "3"])
def test_bad_codes(bad: object) -> None:
    with pytest.raises(OutOfDomainError, match=r"0\.\.15624|int"):
        Cell.from_code(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [(0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 5), "12345", "1234567", "12345a", (0.0,) * 6])
def test_bad_naslib_indices(bad: object) -> None:
    with pytest.raises(OutOfDomainError):
        Cell.from_naslib_indices(bad)  # type: ignore[arg-type]


def test_naslib_mapping_on_known_cells() -> None:
    # official index 0 and 1 of the NASLib table in ../shared/data
    assert Cell.from_naslib_indices("433000").to_string() == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert Cell.from_string(BEST).naslib_indices() == (2, 2, 0, 4, 2, 0)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_naslib_indices_match_all_15625_rows(shared_data: Path) -> None:
    rows = _read_csv(shared_data / "nb201" / "nb201_val_accuracy_zen_all.csv")
    assert len(rows) == 15625
    for row in rows:
        cell = Cell.from_string(row["arch_str"])
        digits = row["naslib_op_indices"].zfill(6)
        assert "".join(map(str, cell.naslib_indices())) == digits
        assert Cell.from_naslib_indices(digits) == cell


def test_index_table_from_csv_round_trips(shared_data: Path) -> None:
    path = shared_data / "nb201" / "nb201_cifar10_200ep_naswot_scores.csv"
    table = IndexTable.from_csv(path)
    rows = _read_csv(path)
    assert len(table) == 15625
    assert sorted(table.codes.tolist()) == list(range(15625))
    for row in rows[:2000]:
        i = int(row["nb201_index"])
        cell = Cell.from_string(row["arch_str"])
        assert table.index_of(cell) == i
        assert table.cell_at(i) == cell
        assert table.index_of(row["arch_str"]) == i
    idx = table.index_of_codes(table.codes)
    assert (idx == np.arange(15625)).all()
    assert table.cell_at(1).to_string() == BEST


def test_index_table_agrees_with_official_meta_archs(shared_data: Path) -> None:
    """The NATS-Bench topology meta file lists the same official order as the CSVs."""
    raw = bz2.decompress((shared_data / "nats" / "fake_torch_dir" / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2").read_bytes())
    meta = _RestrictedUnpickler(io.BytesIO(raw)).load()
    official = IndexTable.from_strings(meta["meta_archs"])
    csv_table = IndexTable.from_csv(shared_data / "nb201" / "nb201_val_accuracy_zen_all.csv")
    assert (official.codes == csv_table.codes).all()


def test_index_table_from_csv_with_repeated_rows(shared_data: Path, tmp_path: Path) -> None:
    # the zc sample has one row per dataset and gaps, so it is refused with a clear message
    with pytest.raises(FormatError, match="without gaps"):
        IndexTable.from_csv(shared_data / "nb201" / "nb201_zc_proxies_v20220518_sample.csv")
    a = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    b = BEST
    p = tmp_path / "t.csv"
    p.write_text(f"nb201_index,arch_str\n1,{b}\n0,{a}\n1,{b}\n")
    table = IndexTable.from_csv(p)
    assert table.codes.tolist() == [0, Cell.from_string(b).code]
    p.write_text(f"nb201_index,arch_str\n0,{a}\n0,{b}\n")
    with pytest.raises(FormatError, match="one index must name one cell"):
        IndexTable.from_csv(p)
    p.write_text(f"idx,arch_str\n0,{a}\n")
    with pytest.raises(FormatError, match="nb201_index"):
        IndexTable.from_csv(p)
    p.write_text("nb201_index,arch_str\n0,|bad|\n")
    with pytest.raises(FormatError, match="bad"):
        IndexTable.from_csv(p)


def test_index_table_errors() -> None:
    table = IndexTable.from_strings([BEST])
    with pytest.raises(NotInBenchmarkError, match=r"0\.\.0"):
        table.cell_at(1)
    with pytest.raises(NotInBenchmarkError, match=r"0\.\.0"):
        table.cell_at(-1)
    with pytest.raises(NotInBenchmarkError, match="not in this index table"):
        table.index_of(Cell.from_code(0))
    with pytest.raises(NotInBenchmarkError, match="code 0"):
        table.index_of_codes(np.array([Cell.from_string(BEST).code, 0]))
    with pytest.raises(OutOfDomainError, match="appears at official indices"):
        IndexTable.from_strings([BEST, BEST])
    with pytest.raises(OutOfDomainError):
        IndexTable([15625])
    assert Cell.from_string(BEST) in table
    assert Cell.from_code(0) not in table
    assert list(table) == [Cell.from_string(BEST)]
    with pytest.raises(KeyError):  # NotInBenchmarkError is a KeyError too
        table.cell_at(5)


def test_parse_and_registry() -> None:
    space = get_space("nb201")
    assert space is SPACE and get_space("nats-tss") is SPACE
    cell = Cell.from_string(BEST)
    assert space.parse(BEST) == cell
    assert space.parse(cell) is cell
    assert space.parse(list(cell.ops)) == cell
    assert space.parse(cell.hash) == cell.canonical()
    with pytest.raises(OutOfDomainError, match="IndexTable"):
        space.parse(3)
    with pytest.raises(OutOfDomainError, match="hash"):
        space.parse("0" * 32)


class _RestrictedUnpickler(pickle.Unpickler):
    """Only plain containers: the meta file needs no global at all."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"global {module}.{name} refused")
