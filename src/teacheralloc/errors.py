"""Input problems: where a problem is, what was found, what was expected (中文 first, English code)."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def report(self) -> str:
        lines = [p.message() for p in self.problems]
        lines.append(f"共 {len(self.errors)} 个错误、{len(self.warnings)} 个警告；未写出任何文件。")
        return "\n".join(lines)


def _order(problem: Problem) -> tuple[str, str, int, str]:
    return (problem.file, problem.sheet, problem.row if problem.row is not None else 0, problem.column)
