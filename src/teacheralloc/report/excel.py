"""A formatted workbook from DataFrames: Chinese headers, frozen header row, widths, number formats,
autofilter, shortages in red and surpluses in blue. Shared by the norms, plan and comparison workbooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
SHORTAGE_FILL = PatternFill("solid", fgColor="F8CBAD")  # red: shortage (缺)
SURPLUS_FILL = PatternFill("solid", fgColor="BDD7EE")  # blue: surplus (余)


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
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, frame in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append([str(c) for c in frame.columns])
        for values in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in values])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.freeze_panes = "A2"
        if len(frame.columns):
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"
        wraps = set(wrap_columns.get(title, ()))
        for index, column in enumerate(frame.columns, start=1):
            letter = get_column_letter(index)
            if column in wraps:
                sheet.column_dimensions[letter].width = 80
                for cell in sheet[letter][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                continue
            sheet.column_dimensions[letter].width = _width(frame[column], str(column))
            if pd.api.types.is_float_dtype(frame[column]):
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.00"
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
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


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
