"""Property tests of the loader: whatever a user does to a valid CSV folder, `load_county` returns a County
or raises InputError — never another exception — and a certainly invalid edit is reported at its row.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import AS_OF, make_county, write_county_csv

from teacheralloc.domain import County, columns
from teacheralloc.errors import InputError
from teacheralloc.io.read import load_county

Grid = list[list[str]]
InvalidEdit = tuple[dict[str, bytes], str, int, str, str]  # files, file, row, column, rule (prefix)
TABLES = ("schools", "classes", "teachers", "distances")
ID_COLUMNS = {"schools": "school_id", "teachers": "teacher_id"}

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _valid_files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_county_csv(make_county(), Path(tmp) / "county")
        return {path.name: path.read_bytes() for path in folder.iterdir()}


VALID_FILES = _valid_files()


def grid_of(data: bytes) -> Grid:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def bytes_of(grid: Grid) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(grid)
    return buffer.getvalue().encode("utf-8")


VALID_GRIDS: dict[str, Grid] = {name: grid_of(VALID_FILES[f"{name}.csv"]) for name in TABLES}


def load_files(files: dict[str, bytes]) -> County | InputError:
    """Write the files to a fresh folder and load it; any exception other than InputError propagates."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            return load_county(tmp, as_of=AS_OF)
        except InputError as error:
            return error


def with_grid(table: str, change: Callable[[Grid], None]) -> dict[str, bytes]:
    grid = [list(row) for row in VALID_GRIDS[table]]
    change(grid)
    return {**VALID_FILES, f"{table}.csv": bytes_of(grid)}


# --------------------------------------------------------------------------------------------------
# Any corruption: a County or an InputError
# --------------------------------------------------------------------------------------------------

TRICKY = [
    "", " ", "0", "-1", "1e20", "99999999999999999999", "1e400", "nan", "inf", "-0", "1,5", "3.5", "١٢",
    "是", "否", "true", "示例", "9999-12-31", "0001-01-01", "1900-02-29", "2024-02-29", "99999", "31107",
    "1985年13月", "S1", "J1;N1;P1;S1", "X9", "primary", "小学", "teaching_point", "chinese;math", "\x00",
    '"', "a\nb", "\r", "\ufeff", "学校代码", "teacher_id",
]
cell_values = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-100, max_value=100).map(str),
    st.integers(min_value=10**12, max_value=10**30).map(str),  # ids typed into a count, ...
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(TRICKY),
)


# a cell edit is the commonest mistake, and the one that reaches the value parsers
CORRUPTIONS = ("cell",) * 5 + ("drop_column", "duplicate_row", "delete_cells", "junk", "encoding")


@st.composite
def corrupted_files(draw: st.DrawFn) -> dict[str, bytes]:
    """The valid folder with one to three random corruptions."""
    files = dict(VALID_FILES)
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from(TABLES))
        name = f"{table}.csv"
        kind = draw(st.sampled_from(CORRUPTIONS))
        if kind == "junk":
            data = files[name]
            at = draw(st.integers(0, len(data)))
            files[name] = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
            continue
        try:
            grid = grid_of(files[name])
        except UnicodeDecodeError:
            continue  # already junk
        if not grid:
            continue
        row = draw(st.integers(0, len(grid) - 1))
        if kind == "cell" and grid[row]:
            grid[row][draw(st.integers(0, len(grid[row]) - 1))] = draw(cell_values)
        elif kind == "drop_column" and grid[0]:
            column = draw(st.integers(0, len(grid[0]) - 1))
            grid = [r[:column] + r[column + 1:] for r in grid]
        elif kind == "duplicate_row":
            grid.insert(draw(st.integers(0, len(grid))), list(grid[row]))
        elif kind == "delete_cells":
            grid[row] = grid[row][: draw(st.integers(0, len(grid[row])))]
        if kind == "encoding":
            text = bytes_of(grid).decode("utf-8")
            encoding = draw(st.sampled_from(["gb18030", "utf-8-sig", "utf-16"]))
            files[name] = text.encode(encoding, errors="replace")
        else:
            files[name] = bytes_of(grid)
    if draw(st.integers(0, 9)) == 0:
        files.pop(draw(st.sampled_from(sorted(files))))
    return files


@PROPERTY_SETTINGS
@given(files=corrupted_files())
def test_any_corruption_gives_county_or_input_error(files: dict[str, bytes]) -> None:
    result = load_files(files)
    if isinstance(result, InputError):
        assert result.errors, "an InputError must carry at least one error"
        for problem in result.problems:
            assert problem.file and problem.expected
            assert problem.row is None or problem.row >= 1
            assert problem.message()
    else:
        assert isinstance(result, County)


@st.composite
def one_cell_edited(draw: st.DrawFn) -> dict[str, bytes]:
    """The valid folder with one data cell overwritten: the commonest mistake, reaching the value parsers."""
    table = draw(st.sampled_from(TABLES))
    grid = VALID_GRIDS[table]
    row, index = draw(st.integers(1, len(grid) - 1)), draw(st.integers(0, len(grid[0]) - 1))
    value = draw(cell_values)

    def change(g: Grid) -> None:
        g[row][index] = value

    return with_grid(table, change)


@PROPERTY_SETTINGS
@given(files=one_cell_edited())
def test_any_cell_value_gives_county_or_input_error(files: dict[str, bytes]) -> None:
    result = load_files(files)
    assert isinstance(result, County | InputError)
    if isinstance(result, InputError):
        assert all(p.row is not None and p.row >= 2 for p in result.errors), result.report()


# --------------------------------------------------------------------------------------------------
# Certainly invalid edits: reported at their row
# --------------------------------------------------------------------------------------------------

GARBAGE_KINDS = ("date", "enum", "int", "list_enum")
garbage = st.text(max_size=8).map(lambda text: "#" + text)  # never a number, date, code or label


def _cells(kinds: tuple[str, ...] | None = None, required: bool = False) -> list[tuple[str, str]]:
    return [
        (table, col.code)
        for table in TABLES
        for col in columns(table)
        if (kinds is None or col.kind in kinds) and (not required or col.required)
    ]


@st.composite
def invalid_edit(draw: st.DrawFn) -> InvalidEdit:
    """(files, file, row, column, rule prefix) for one certainly invalid edit."""
    kind = draw(st.sampled_from(["blank", "garbage", "duplicate_id"]))
    if kind == "duplicate_id":
        table = draw(st.sampled_from(sorted(ID_COLUMNS)))
        grid = VALID_GRIDS[table]
        original = draw(st.integers(1, len(grid) - 1))
        at = draw(st.integers(original + 1, len(grid)))  # after the original: the copy is the duplicate
        files = with_grid(table, lambda g: g.insert(at, list(g[original])))
        return files, f"{table}.csv", at + 1, ID_COLUMNS[table], "unique"
    if kind == "blank":
        table, column = draw(st.sampled_from(_cells(required=True)))
        value = draw(st.sampled_from(["", " ", "  ", "\t", "\u3000"]))
        rule = "required"
    else:
        table, column = draw(st.sampled_from(_cells(GARBAGE_KINDS)))
        value = draw(garbage)
        rule = "type_"
    grid = VALID_GRIDS[table]
    row = draw(st.integers(2, len(grid)))
    index = grid[0].index(column)

    def change(g: Grid) -> None:
        g[row - 1][index] = value

    return with_grid(table, change), f"{table}.csv", row, column, rule


@PROPERTY_SETTINGS
@given(edit=invalid_edit())
def test_certainly_invalid_edit_is_reported_at_its_row(edit: InvalidEdit) -> None:
    files, file, row, column, rule = edit
    result = load_files(files)
    assert isinstance(result, InputError), f"{file} row {row} {column} was accepted"
    here = [p for p in result.problems if (p.file, p.row, p.column) == (file, row, column)]
    found = [(p.rule, p.severity) for p in here]
    assert any(r.startswith(rule) and severity == "error" for r, severity in found), (
        f"expected {rule}* at {file} row {row} {column}; got:\n{result.report()}"
    )
