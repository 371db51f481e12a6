"""Input errors as the user reads them."""

from __future__ import annotations

from teacheralloc.errors import InputError, Problem, problem_lines


def test_the_same_problem_found_twice_is_said_once() -> None:
    """Three hires pinned to one full school come from one scenario line: one line, not three; problems
    that differ in any part stay, in file and row order."""
    full = Problem("hire.yaml", 5, "changes[1].hire.school", "C001", "有空编的学校")
    other = Problem("hire.yaml", 5, "changes[1].hire.school", "C002", "有空编的学校")
    first = Problem("hire.yaml", 2, "base", "nowhere", "存在的数据文件夹")
    error = InputError([full, other, full, first, full])
    assert error.problems == [first, full, other]
    assert error.report().count("C001") == 1 and "共 3 个错误" in error.report()


def test_a_problem_repeated_down_a_column_is_summed_up_with_every_row() -> None:
    """US dates in all 2,000 rows gave 4,000 identical lines; now five of each, then one line naming the
    other rows (every one of them, consecutive ones as a range). Other problems are shown in full."""
    expected = "日期，如 2015-09-01"
    rows = [*range(2, 12), 15, 16, 17, 30]
    problems = [Problem("teachers.csv", r, "birth_date", f"{r}/1/1988", expected, label="出生日期") for r in rows]
    problems.append(Problem("teachers.csv", 3, "school_id", "X999", "学校表中已有的学校代码", label="任教学校"))
    lines = InputError(problems).lines()
    assert len(lines) == 5 + 1 + 1
    assert lines[-1] == ("[错误] teachers.csv 出生日期(birth_date)：同样的问题还有 9 处（第 7–11、15–17、30 行），"
                         f"期望：{expected}")
    assert any("X999" in line for line in lines)
    few = InputError(problems[:6]).lines()  # one more than shown would be summed up: shown instead
    assert len(few) == 6 and all("同样的问题" not in line for line in few)


def test_problems_alike_but_for_their_values_are_summed_up_too() -> None:
    """A rule whose text names the value (年.月 1988.1, 1990.1, …) still groups by rule; the summary line says
    the expectation differs from place to place. Warnings group the same way."""
    problems = [Problem("teachers.csv", r, "birth_date", f"{1980 + r}.1", f"{1980 + r}年1月还是10月？",
                        label="出生日期", rule="type_date") for r in range(2, 12)]
    lines = InputError(problems).lines()
    assert len(lines) == 6 and "同样的问题还有 5 处（第 7–11 行），期望：同上（各处所填的值不同）" in lines[-1]
    warnings = [Problem("teachers.csv", r, "wishes", "X001", "标记申请交流", rule="wishes_without_volunteer",
                        severity="warning") for r in range(2, 40)]
    assert len(problem_lines(warnings)) == 6
