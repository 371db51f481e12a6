"""Input problems: where a problem is, what was found, what was expected (中文 first, English code)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the user's input.

    `row` is the spreadsheet row number as the user sees it (the header is row 1), or None when the
    problem concerns a whole file or column. `column` is the contract code; `label` its Chinese header.
    """

    file: str
    row: int | None
    column: str
    value: str
    expected: str
    sheet: str = ""
    label: str = ""
    rule: str = field(default="", compare=False)
    severity: str = field(default="error", compare=False)  # "error" blocks; "warning" is reported only

    def where(self) -> str:
        place = self.file + (f" / {self.sheet}" if self.sheet else "")
        if self.row is not None:
            place += f" 第 {self.row} 行"
        if self.column:
            name = f"{self.label}({self.column})" if self.label and self.label != self.column else self.column
            place += f" {name}"
        return place

    def message(self) -> str:
        """The one-line Chinese message, e.g. `teachers.csv 第 14 行 出生日期(birth_date)："1990/13/01"，期望 …`."""
        found = f"：“{self.value}”" if self.value != "" else ""
        tag = "警告" if self.severity == "warning" else "错误"
        return f"[{tag}] {self.where()}{found}，期望：{self.expected}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "label": self.label,
            "value": self.value,
            "expected": self.expected,
            "rule": self.rule,
            "severity": self.severity,
        }


class InputError(Exception):
    """The input is invalid: carries every problem found in every file, so the user fixes all at once."""

    def __init__(self, problems: list[Problem]) -> None:
        # The same problem found twice (three hires pinned to one full school, from one scenario line) is
        # said once.
        seen: set[tuple[str, str]] = set()
        unique = [p for p in problems
                  if (p.message(), p.severity) not in seen and not seen.add((p.message(), p.severity))]
        self.problems = sorted(unique, key=_order)
        super().__init__(f"{len(self.errors)} 个输入错误 (input errors)")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def lines(self) -> list[str]:
        """The problems as printed (`problem_lines`)."""
        return problem_lines(self.problems)

    def report(self) -> str:
        lines = self.lines()
        lines.append(f"共 {len(self.errors)} 个错误、{len(self.warnings)} 个警告；未写出任何文件。")
        return "\n".join(lines)


def problem_lines(problems: list[Problem]) -> list[str]:
    """One line per problem, except that a problem repeated down a column (US dates in every row, a
    warning on every teacher) is shown `SHOWN_OF_A_KIND` times and then as one line naming every other
    row it is on. Problems are alike by file, sheet, column, rule and severity (their texts may name the
    value); the summary line says what was expected when all of them expect the same."""
    def key(problem: Problem) -> tuple[str, str, str, str, str]:
        return (problem.file, problem.sheet, problem.column, problem.rule or problem.expected, problem.severity)

    groups: dict[tuple[str, str, str, str, str], list[Problem]] = {}
    for problem in problems:
        groups.setdefault(key(problem), []).append(problem)
    lines: list[str] = []
    told: set[tuple[str, str, str, str, str]] = set()
    for problem in problems:
        group = groups[key(problem)]
        if len(group) <= SHOWN_OF_A_KIND + 1 or problem in group[:SHOWN_OF_A_KIND]:
            lines.append(problem.message())
        elif key(problem) not in told:
            told.add(key(problem))
            rest = group[SHOWN_OF_A_KIND:]
            rows = _row_ranges([p.row for p in rest if p.row is not None])
            first = replace(rest[0], row=None)
            tag = "警告" if first.severity == "warning" else "错误"
            expected = first.expected if len({p.expected for p in rest}) == 1 else "同上（各处所填的值不同）"
            lines.append(f"[{tag}] {first.where()}：同样的问题还有 {len(rest)} 处（第 {rows} 行），期望：{expected}")
    return lines


#: How many of a repeated problem are shown in full before the rest are summed up with their rows.
SHOWN_OF_A_KIND = 5


def _row_ranges(rows: list[int]) -> str:
    """12、15–20、31: row numbers with consecutive runs as ranges."""
    parts: list[str] = []
    for row in sorted(set(rows)):
        if parts and isinstance(parts[-1], list) and parts[-1][1] == row - 1:
            parts[-1][1] = row
        else:
            parts.append([row, row])
    return "、".join(f"{a}" if a == b else f"{a}–{b}" for a, b in parts)


def _order(problem: Problem) -> tuple[str, str, int, str]:
    return (problem.file, problem.sheet, problem.row if problem.row is not None else 0, problem.column)
