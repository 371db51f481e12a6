"""The command line as a user runs it: exit codes, visible lines, and never a traceback for bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from teacheralloc.domain import ClassGroup, County, School, Teacher
from teacheralloc.io.write import write_county_csv

AS_OF = "2026-09-01"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "teacheralloc", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid two-school county as a UTF-8 CSV folder."""
    county = County.from_records(
        schools=[School(school_id="S1", name="城关一小", township="城关镇", type="primary", area="urban"),
                 School(school_id="P1", name="西营村教学点", township="西营镇", type="teaching_point", area="rural")],
        classes=[ClassGroup(school_id="S1", grade=g, classes=2, students=90) for g in range(1, 7)]
        + [ClassGroup(school_id="P1", grade=1, classes=1, students=9)],
        teachers=[Teacher(teacher_id=f"T{i}", gender="F", birth_date=date(1980 + i, 1, 1), school_id="S1",
                          school_since=date(2012, 9, 1), stage="primary", subject="chinese") for i in range(5)],
        as_of=date(2026, 9, 1),
    )
    folder = tmp_path_factory.mktemp("county")
    write_county_csv(county, folder)
    return folder


def test_validate_prints_the_county_summary(small_folder: Path) -> None:
    result = run("validate", str(small_folder), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert "数据有效" in result.stdout
    for heading in ("学校（按类型与城乡）", "学生与班级（按学段）", "教师（按主教学科与学段）", "教师（按在岗状态）"):
        assert heading in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    # average class size to the one decimal computed: 549 pupils in 13 classes (it showed 42.20)
    assert re.search(r"合计\s+│\s+549\s+│\s+13\s+│\s+42\.2\s", result.stdout), result.stdout


def test_several_mistakes_in_several_files_are_reported_at_once(small_folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in small_folder.iterdir():
        (broken / file.name).write_bytes(file.read_bytes())
    teachers = (broken / "teachers.csv").read_text(encoding="utf-8").splitlines()
    teachers[2] = teachers[2].replace("1981-01-01", "1990/13/01")  # row 3: impossible month
    teachers[4] = teachers[4].replace(",S1,", ",NOPE,")  # row 5: unknown school
    (broken / "teachers.csv").write_text("\n".join(teachers) + "\n", encoding="utf-8")
    classes = (broken / "classes.csv").read_text(encoding="utf-8").splitlines()
    classes[1] = classes[1].replace("S1,1,", "S1,10,")  # row 2: grade 10
    (broken / "classes.csv").write_text("\n".join(classes) + "\n", encoding="utf-8")

    result = run("validate", str(broken), "--as-of", AS_OF)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("[错误]")]
    assert any("teachers.csv 第 3 行 出生日期(birth_date)：“1990/13/01”" in line for line in lines)
    assert any("teachers.csv 第 5 行 任教学校(school_id)：“NOPE”" in line for line in lines)
    assert any("classes.csv 第 2 行 年级(grade)：“10”" in line for line in lines)
    assert "共 3 个错误" in result.stderr and "请改正后重新运行" in result.stderr
    assert "未写出任何文件" not in result.stderr  # validate writes nothing anyway: no such reassurance
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "/no/such/folder"),  # missing data
        ("validate", "{folder}", "--as-of", "2026-13-01"),  # bad option value
        ("validate", "{folder}", "--policy", "/no/such/policy.yaml"),  # missing policy file
        ("norms", "{folder}", "--out", "{folder}"),  # output over the input
        ("sample", "{folder}"),  # sample into a non-empty folder
        ("template", "{folder}/x.txt"),  # template needs .xlsx
    ],
)
def test_user_mistakes_give_a_message_and_exit_2(small_folder: Path, args: tuple[str, ...]) -> None:
    result = run(*(a.format(folder=small_folder) for a in args))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "[错误]" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_norms_writes_outputs_and_refuses_a_non_empty_folder(small_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "norms"
    result = run("norms", str(small_folder), "--out", str(out), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {"schools.csv", "subjects.csv", "norms.xlsx"}
    assert "县域编制测算" in result.stdout and "差异系数" in result.stdout
    again = run("norms", str(small_folder), "--out", str(out), "--as-of", AS_OF)
    assert again.returncode == 2 and "--force" in again.stderr
    forced = run("norms", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--force")
    assert forced.returncode == 0, forced.stderr


def test_bad_policy_override_is_named_by_key(small_folder: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("staffing:\n  students_per_staff: {primary: -3}\n", encoding="utf-8")
    result = run("norms", str(small_folder), "--out", str(tmp_path / "o"), "--policy", str(policy))
    assert result.returncode == 2
    assert "staffing.students_per_staff.primary" in result.stderr
    assert not (tmp_path / "o").exists()  # nothing written


def test_plan_writes_the_contract_files_and_check_accepts_them(small_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--time-limit", "60")
    assert result.returncode == 0, result.stderr
    assert {"plan.csv", "schools.csv", "summary.json", "plan.xlsx", "causes.csv"} <= {p.name for p in out.iterdir()}
    assert "分层目标" in result.stdout and "方案状态" in result.stdout
    assert "骨干缺 1 人" in result.stdout  # the quota tier in whole teachers, not its weighted code (0.200)
    header = (out / "plan.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("teacher_id,from_school,to_school,move_type,subject,reason")
    schools = (out / "schools.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert schools.startswith("school_id,stage,students,classes,required,teachers_before,teachers_after,gap_before,gap_after")
    checked = run("check", str(small_folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "复核通过" in checked.stdout


def test_check_fails_on_a_tampered_plan(small_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--quiet").returncode == 0
    lines = (out / "plan.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) > 1, "the small county needs at least one move for this test"
    lines.append(lines[1])  # the same teacher twice
    (out / "plan.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    checked = run("check", str(small_folder), str(out))
    assert checked.returncode == 1
    assert "复核未通过" in checked.stdout
    assert "此方案由" not in checked.stderr  # the data it was made from: no word about it
    copy = tmp_path / "copy"  # another folder: if the violations come from other data, that is said
    copy.mkdir()
    for file in small_folder.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    elsewhere = run("check", str(copy), str(out))
    assert elsewhere.returncode == 1 and f"此方案由 {small_folder.resolve()} 制定" in elsewhere.stderr.replace("\n", "")


def test_check_says_when_the_data_changed_since_the_plan(small_folder: Path, tmp_path: Path) -> None:
    """A data folder edited in place after planning (same path) is named by its content: summary.json
    records the data's fingerprint, and check compares it (before, only a different path was noticed)."""
    data = tmp_path / "data"
    data.mkdir()
    for file in small_folder.iterdir():
        (data / file.name).write_bytes(file.read_bytes())
    out = tmp_path / "plan"
    assert run("plan", str(data), "--out", str(out), "--as-of", AS_OF, "--quiet").returncode == 0
    assert "数据指纹" not in run("check", str(data), str(out)).stderr
    classes = (data / "classes.csv").read_text(encoding="utf-8-sig").splitlines()
    classes[1] = classes[1].replace(",90", ",91")
    (data / "classes.csv").write_text("\n".join(classes) + "\n", encoding="utf-8-sig")
    changed = run("check", str(data), str(out))
    assert "内容与制定此方案时的数据不同" in changed.stderr.replace("\n", "")


def test_check_uses_the_plans_own_policy_unless_told_otherwise(small_folder: Path, tmp_path: Path) -> None:
    """A plan made with --policy passes `check DATA PLANDIR` (checked against its policy_used.yaml, the
    changed settings named in a warning); with --policy the auditor's rules apply instead."""
    changed = tmp_path / "changed.yaml"
    changed.write_text("rotation:\n  min_share_of_eligible: 0.5\n", encoding="utf-8")
    out = tmp_path / "plan"
    made = run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--policy", str(changed), "--quiet")
    assert made.returncode == 0, made.stderr
    checked = run("check", str(small_folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "复核通过" in checked.stdout
    assert "rotation.min_share_of_eligible = 0.5" in checked.stdout.replace("\n", "")
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("rotation:\n  min_share_of_eligible: 0.1\n", encoding="utf-8")
    audited = run("check", str(small_folder), str(out), "--policy", str(defaults))
    assert audited.returncode == 1, audited.stdout
    assert "required_rotations" in audited.stdout


def test_check_uses_the_pins_the_plan_was_made_with(small_folder: Path, tmp_path: Path) -> None:
    """A plan made with --pins keeps them (pins_used.csv) and `check DATA PLANDIR` re-verifies it with
    them: without, a teacher pinned to stay counted in the quota base and the plan failed its check."""
    pins = tmp_path / "my-pins.csv"
    pins.write_text("教师编号,必须留任,必须调出,调往学校,不得调往\nT0,是,,,\n", encoding="utf-8")
    out = tmp_path / "plan"
    made = run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--pins", str(pins), "--quiet")
    assert made.returncode == 0, made.stderr
    assert (out / "pins_used.csv").read_text(encoding="utf-8-sig").splitlines()[1] == "T0,是,,,"
    checked = run("check", str(small_folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (out / "pins_used.csv").unlink()  # the auditor without the pins: the quota base differs
    unpinned = run("check", str(small_folder), str(out))
    assert unpinned.returncode == 1 and "eligible_base" in unpinned.stdout


def test_a_plan_made_again_without_pins_is_checked_without_them(small_folder: Path, tmp_path: Path) -> None:
    """Planned with --pins, then again into the same folder with --force and no pins: the old pins_used.csv
    stayed and `check` failed the new plan against pins it was never made with. Now pins_used.csv always
    says which pins the plan had (none: a header only), so a pins.csv put in the data folder later does
    not count either."""
    import shutil

    pins = tmp_path / "my-pins.csv"
    pins.write_text("教师编号,必须留任,必须调出,调往学校,不得调往\nT0,是,,,\n", encoding="utf-8")
    out = tmp_path / "plan"
    assert run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--pins", str(pins),
               "--quiet").returncode == 0
    again = run("plan", str(small_folder), "--out", str(out), "--as-of", AS_OF, "--force", "--quiet")
    assert again.returncode == 0, again.stderr
    assert (out / "pins_used.csv").read_text(encoding="utf-8-sig").splitlines()[1:] == []
    folder = Path(shutil.copytree(small_folder, tmp_path / "county"))
    shutil.copy(pins, folder / "pins.csv")
    checked = run("check", str(folder), str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_validate_reports_a_pin_no_plan_can_honour(small_folder: Path, tmp_path: Path) -> None:
    """validate reads the dataset's pins.csv as plan will: must_stay and must_move for one teacher is an
    error there already (file, row, column, value), not only when planning."""
    import shutil

    folder = Path(shutil.copytree(small_folder, tmp_path / "county"))
    (folder / "pins.csv").write_text("教师编号,必须留任,必须调出,调往学校,不得调往\nT0,是,,,\nT0,,是,,\n",
                                     encoding="utf-8")
    result = run("validate", str(folder), "--as-of", AS_OF)
    assert result.returncode == 2, result.stdout
    assert "pins.csv 第 3 行 必须调出(must_move)：“是”" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_pins_unknown_and_unhonourable_are_reported_at_once(small_folder: Path, tmp_path: Path,
                                                             command: str) -> None:
    """An unknown teacher id and a pin no plan can honour (a teacher pinned to their own school) in one
    file: both in one run, nothing written (a tester needed three runs for such a file)."""
    import shutil

    folder = Path(shutil.copytree(small_folder, tmp_path / "county"))
    (folder / "pins.csv").write_text("教师编号,必须留任,必须调出,调往学校,不得调往\nZZ9,,是,,\nT1,,,S1,\n",
                                     encoding="utf-8")
    out = tmp_path / "plan"
    args = ("--out", str(out), "--quiet") if command == "plan" else ()
    result = run(command, str(folder), "--as-of", AS_OF, *args)
    assert result.returncode == 2, result.stdout
    errors = result.stderr.replace("\n", "")
    assert "pins.csv 第 2 行 教师编号(teacher_id)：“ZZ9”" in errors
    assert "pins.csv 第 3 行 调往学校(to_school)：“S1”" in errors
    assert "Traceback" not in result.stderr and not out.exists()


def test_report_finds_the_data_from_any_folder_or_says_it_cannot(small_folder: Path, tmp_path: Path) -> None:
    """summary.json records the dataset's absolute path (a relative one was lost when `report` ran
    elsewhere); a rebuild that needs the data and cannot find it warns instead of silently dropping the
    subject gaps."""
    import json
    import os

    out = tmp_path / "plan"
    made = subprocess.run([sys.executable, "-m", "teacheralloc", "plan", small_folder.name, "--out", str(out),
                           "--as-of", AS_OF, "--quiet"], capture_output=True, text=True, timeout=300,
                          cwd=small_folder.parent, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert made.returncode == 0, made.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["source"] == str(small_folder.resolve())
    (out / "subjects.csv").unlink()
    rebuilt = run("report", str(out))
    assert rebuilt.returncode == 0 and "警告" not in rebuilt.stderr, rebuilt.stderr
    summary["parameters"]["source"] = str(tmp_path / "moved-away")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    (out / "subjects.csv").unlink(missing_ok=True)
    lost = run("report", str(out))
    assert lost.returncode == 0 and "--data" in lost.stderr and "警告" in lost.stderr


def test_report_and_plan_refuse_the_wrong_kind_of_folder(small_folder: Path, tmp_path: Path) -> None:
    """report on a folder that is not a plan's, and plan --out a file (with or without --force): each a
    plain input error saying what was expected, not a file-system message."""
    not_plan = run("report", str(tmp_path))
    assert not_plan.returncode == 2 and "teacheralloc plan 的输出目录" in not_plan.stderr.replace("\n", "")
    a_file = tmp_path / "out.txt"
    a_file.write_text("mine", encoding="utf-8")
    for extra in ([], ["--force"]):
        result = run("plan", str(small_folder), "--out", str(a_file), "--as-of", AS_OF, "--quiet", *extra)
        assert result.returncode == 2 and "是一个文件" in result.stderr.replace("\n", ""), result.stderr
    assert a_file.read_text(encoding="utf-8") == "mine"


def test_validate_and_norms_read_a_scenario_file(tmp_path: Path) -> None:
    """validate and norms take a scenario file as plan and check do: the county after its changes."""
    scenario = Path(__file__).parents[1] / "scenarios" / "rural-enrollment-decline.yaml"
    checked = run("validate", str(scenario))
    assert checked.returncode == 0 and "数据有效" in checked.stdout, checked.stderr
    made = run("norms", str(scenario), "--out", str(tmp_path / "n"))
    assert made.returncode == 0 and (tmp_path / "n" / "schools.csv").exists(), made.stderr


def test_as_of_takes_the_date_forms_the_data_take(small_folder: Path) -> None:
    """--as-of 2026/9/1 was refused while the same date in a cell reads; a non-date still says what to type."""
    assert run("validate", str(small_folder), "--as-of", "2026/9/1").returncode == 0
    bad = run("validate", str(small_folder), "--as-of", "next year")
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "2027/9/1" in bad.stderr


def test_validate_checks_a_scenarios_pins_as_plan_will(tmp_path: Path) -> None:
    """validate on a scenario file checked its data and changes but not its pins (nor --pins): a pin on a
    teacher on maternity leave passed validate and failed in plan. Now the same error, at the scenario's
    line and key, and --pins is read too."""
    import pandas as pd

    sample = Path(__file__).resolve().parents[1] / "scenarios" / "sample-county"
    teachers = pd.read_csv(sample / "teachers.csv", dtype=str)
    on_leave = teachers.loc[teachers["status"] == "maternity", "teacher_id"].iloc[0]
    scenario = tmp_path / "pins.yaml"
    scenario.write_text(f"base: {sample}\nchanges:\n  - pins:\n      - {{teacher_id: {on_leave}, must_move: true}}\n",
                        encoding="utf-8")
    result = run("validate", str(scenario))
    assert result.returncode == 2, result.stdout
    assert "pins.yaml 第 4 行 必须调出(changes[1].pins[1])" in result.stderr.replace("\n", "")
    (tmp_path / "extra.csv").write_text("teacher_id,must_stay\nNOBODY,是\n", encoding="utf-8")
    clean = tmp_path / "clean.yaml"
    clean.write_text(f"base: {sample}\nchanges:\n  - scale_enrollment: {{factor: 0.9}}\n", encoding="utf-8")
    result = run("validate", str(clean), "--pins", str(tmp_path / "extra.csv"))
    assert result.returncode == 2 and "NOBODY" in result.stderr, result.stdout
    assert "Traceback" not in result.stderr


def test_a_mistake_in_policy_yaml_does_not_hide_those_in_the_data(small_folder: Path, tmp_path: Path) -> None:
    """Every problem at once across files: a misspelt policy key and a bad date in teachers.csv are
    reported together (the data's came only after policy.yaml was fixed), by validate, norms and plan."""
    import shutil

    folder = Path(shutil.copytree(small_folder, tmp_path / "county"))
    (folder / "policy.yaml").write_text("rotation:\n  eligible_yeers: 9\n", encoding="utf-8")
    teachers = (folder / "teachers.csv").read_text(encoding="utf-8").splitlines()
    header = teachers[0].split(",")
    row = teachers[1].split(",")
    row[header.index("birth_date")] = "1985-13-40"
    (folder / "teachers.csv").write_text("\n".join([teachers[0], ",".join(row), *teachers[2:]]) + "\n",
                                         encoding="utf-8")
    for args in (("validate", str(folder)), ("norms", str(folder), "--out", str(tmp_path / "n")),
                 ("plan", str(folder), "--out", str(tmp_path / "p"))):
        result = run(*args, "--as-of", AS_OF)
        text = result.stderr.replace("\n", "")
        assert result.returncode == 2, result.stdout
        assert "eligible_yeers" in text and "1985-13-40" in text, text
        assert "Traceback" not in text
    assert not (tmp_path / "n").exists() and not (tmp_path / "p").exists()


def test_console_tables_fold_long_labels_instead_of_cutting_them() -> None:
    """compare's table in a 120-column terminal showed its labels as “核 …” (an HR tester)."""
    import pandas as pd
    from rich.console import Console

    from teacheralloc.cli import _table

    frame = pd.DataFrame({f"情景{i}": [1234.5, 6789.0] for i in range(8)},
                         index=["核定编制（按标准测算，小学）", "调配后分校合计缺编（初中）"])
    console = Console(width=60, record=True)
    console.print(_table(frame, "情景对比"))
    text = console.export_text()
    assert "…" not in text and "核定编制" in text


def test_validate_warns_about_teachers_past_retirement(small_folder: Path) -> None:
    """A roster not yet updated (or a reference date a year on) keeps retired teachers on duty: counted in
    the norms and the plan without a word. validate names how many and who."""
    result = run("validate", str(small_folder), "--as-of", "2040-09-01")
    assert result.returncode == 0, result.stderr
    assert "有 3 名教师在基准日期 2040-09-01 当日或之前已到退休时间（如 T0（2037-08-01）" in result.stdout.replace("\n", "")
    assert "“3 人”" not in result.stdout  # a count is no cell value to quote
    assert "已到退休时间" not in run("validate", str(small_folder), "--as-of", AS_OF).stdout


def test_a_sample_workbook_gets_its_extension(tmp_path: Path) -> None:
    """`sample OUT --xlsx` with no .xlsx in OUT wrote a workbook named OUT that `validate` refused
    (含 CSV 文件的文件夹，或 .xlsx 工作簿): it is written as OUT.xlsx, which reads back."""
    made = run("sample", str(tmp_path / "county"), "--teachers", "150", "--xlsx")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "county.xlsx").is_file() and not (tmp_path / "county").exists()
    assert run("validate", str(tmp_path / "county.xlsx")).returncode == 0
