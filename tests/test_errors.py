"""Input errors as the user reads them."""

from __future__ import annotations

from teacheralloc.errors import InputError, Problem


def test_the_same_problem_found_twice_is_said_once() -> None:
    """Three hires pinned to one full school come from one scenario line: one line, not three; problems
    that differ in any part stay, in file and row order."""
    full = Problem("hire.yaml", 5, "changes[1].hire.school", "C001", "有空编的学校")
    other = Problem("hire.yaml", 5, "changes[1].hire.school", "C002", "有空编的学校")
    first = Problem("hire.yaml", 2, "base", "nowhere", "存在的数据文件夹")
    error = InputError([full, other, full, first, full])
    assert error.problems == [first, full, other]
    assert error.report().count("C001") == 1 and "共 3 个错误" in error.report()
