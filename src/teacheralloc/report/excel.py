"""A formatted workbook from DataFrames: Chinese headers, frozen header row, widths, number formats,
autofilter, shortages in red and surpluses in blue. Shared by the norms, plan and comparison workbooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
SHORTAGE_FILL = PatternFill("solid", fgColor="F8CBAD")  # red: shortage (缺)
SURPLUS_FILL = PatternFill("solid", fgColor="BDD7EE")  # blue: surplus (余)
HEADER_FONT = Font(bold=True)
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")  # long text columns


def _width(values: pd.Series, header: str) -> float:
    sample = [str(v) for v in values.head(200).tolist()] + [header]
    # Display width: 2 for a non-ASCII (CJK) character, 1 for ASCII (counted by the codec, not per character).
    longest = max((2 * len(text) - len(text.encode("ascii", "ignore")) for text in sample), default=8)
    return float(min(max(longest + 2, 6), 60))


def write_sheets(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    shortage_columns: Mapping[str, Sequence[str] | str] | None = None,
    wrap_columns: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write each DataFrame as a formatted sheet.

    `shortage_columns[sheet]` names the gap columns (positive = shortage, negative = surplus) to
    colour, or "numeric" for every numeric column after the first three.
    """
    shortage_columns = shortage_columns or {}
    wrap_columns = wrap_columns or {}
    # Write-only (streamed) sheets: each cell is written once with its style, half the time of a
    # workbook kept in memory (the plan workbook is on the critical path of `plan`).
    workbook = Workbook(write_only=True)
    for title, frame in sheets.items():
        sheet = workbook.create_sheet(title)
        wraps = set(wrap_columns.get(title, ()))
        styles = []  # per column: None, or (number format, alignment) for its body cells
        for index, column in enumerate(frame.columns, start=1):
            letter = get_column_letter(index)
            if column in wraps:
                sheet.column_dimensions[letter].width = 80
                styles.append((None, WRAP_TOP))
                continue
            sheet.column_dimensions[letter].width = _width(frame[column], str(column))
            styles.append(("0.00", None) if pd.api.types.is_float_dtype(frame[column]) else None)
        sheet.freeze_panes = "A2"
        if len(frame.columns):
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"
        colour = shortage_columns.get(title)
        if colour is not None and len(frame):
            names = (
                [c for c in frame.columns[3:] if pd.api.types.is_numeric_dtype(frame[c])]
                if colour == "numeric"
                else list(colour)
            )
            for column in names:
                if column not in frame.columns:
                    continue
                letter = get_column_letter(list(frame.columns).index(column) + 1)
                area = f"{letter}2:{letter}{len(frame) + 1}"
                threshold = "0.5"  # half a teacher: smaller gaps are rounding
                sheet.conditional_formatting.add(area, CellIsRule(operator="greaterThanOrEqual", formula=[threshold],
                                                                  fill=SHORTAGE_FILL))
                sheet.conditional_formatting.add(area, CellIsRule(operator="lessThanOrEqual", formula=[f"-{threshold}"],
                                                                  fill=SURPLUS_FILL))
        sheet.append([_header(sheet, str(c)) for c in frame.columns])
        styled = [i for i, style in enumerate(styles) if style is not None]
        for values in frame.itertuples(index=False):
            row = [_cell(v) for v in values]
            for i in styled:
                row[i] = _styled(sheet, row[i], *styles[i])
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _header(sheet: object, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT
    return cell


def _styled(sheet: object, value: object, number_format: str | None, alignment: Alignment | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell


def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, tuple | list):
        return "、".join(str(v) for v in value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()  # type: ignore[union-attr]
    return value
