"""applicants.csv: every teacher who asked to move (申请交流) is answered: moved to which wish, or kept and why
(a tester's planted volunteer the plan kept appeared in no output at all)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.model.counties import county, grade, school, staff, teacher

from teacheralloc.io.write import write_plan
from teacheralloc.model.solve import plan_county
from teacheralloc.policy import Policy

POLICY = Policy.default()


def applicants_county():
    """城关第一小学 12 for 10 posts, with UV asking for 石桥村小学; 山岭村小学 9 for 10, with RV (one of the 9)
    asking for 石桥村小学 too; 石桥村小学 8 for 10. 城关第二小学 is at its 核定编制 (10 of 10), and FV there
    asks for it from 河湾村小学 (10 for 10)."""
    teachers = [*staff("U", "U1", 11), teacher("UV", "U1", volunteer=True, wishes=("R2",)),
                *staff("R", "R1", 8), teacher("RV", "R1", volunteer=True, wishes=("R2",)),
                *staff("S", "R2", 8), *staff("W", "U2", 10),
                *staff("H", "R3", 9), teacher("FV", "R3", volunteer=True, wishes=("U2",))]
    return county([school("U1"), school("U2", establishment=10), school("R1"), school("R2"), school("R3")],
                  [grade(s, 1) for s in ("U1", "U2", "R1", "R2", "R3")], teachers, {("U1", "R2"): 10})


def test_every_applicant_is_answered(tmp_path: Path) -> None:
    plan = plan_county(applicants_county(), POLICY)
    rows = plan.applicants.set_index("teacher_id")
    assert set(rows.index) == {"UV", "RV", "FV"}
    assert rows.at["UV", "outcome"] == "wish_1" and rows.at["UV", "to_school"] == "R2"
    # UV's move filled 石桥村小学: RV's wish has nothing left to fill
    assert rows.at["RV", "outcome"] == "stayed"
    assert rows.at["RV", "reason"] == "志愿学校：R2（石桥村小学）调配后已不缺小学教师。本方案未调动"
    assert rows.at["FV", "outcome"] == "stayed"
    assert rows.at["FV", "reason"] == "志愿学校：U2（城关第二小学）已达核定编制，不能调入。本方案未调动"
    assert plan.summary()["applicants"] == {"total": 3, "moved_to_wish": 1, "first_wish": 1,
                                            "moved_without_wishes": 0, "stayed": 2}
    write_plan(plan, tmp_path, POLICY, county=applicants_county(), anonymize=True)
    written = pd.read_csv(tmp_path / "applicants.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(written["name"]) == list(written["teacher_id"])  # anonymized: no names leave the machine
    sheet = load_workbook(tmp_path / "plan.xlsx")["交流申请"]
    outcomes = {row[0]: row[6] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert outcomes == {"UV": "第1志愿", "RV": "未调动", "FV": "未调动"}


def test_no_applicants_no_file(tmp_path: Path) -> None:
    """A county where no one asked to move writes no applicants.csv (and a folder planned again loses an
    old one)."""
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)],
                  staff("U", "U1", 11) + staff("R", "R1", 9), {("U1", "R1"): 10})
    plan = plan_county(data, POLICY)
    (tmp_path / "applicants.csv").write_text("stale", encoding="utf-8")
    write_plan(plan, tmp_path, POLICY, county=data)
    assert not (tmp_path / "applicants.csv").exists()
    assert plan.summary()["applicants"]["total"] == 0


def test_check_recomputes_the_applicants(tmp_path: Path) -> None:
    """`check` recomputes each applicant's outcome from the data and plan.csv: an applicants.csv or a
    summary.json that says otherwise is a figures violation."""
    import json

    from teacheralloc.check import check_plan

    data = applicants_county()
    write_plan(plan_county(data, POLICY), tmp_path, POLICY, county=data)
    assert check_plan(data, POLICY, tmp_path).ok
    table = pd.read_csv(tmp_path / "applicants.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table.loc[table["teacher_id"] == "RV", "outcome"] = "wish_1"
    table.to_csv(tmp_path / "applicants.csv", index=False, encoding="utf-8-sig")
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    summary["applicants"]["stayed"] = 1
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    report = check_plan(data, POLICY, tmp_path)
    messages = [v.message for v in report.violations]
    assert any("applicants.csv 第 3 行 RV：结果为 wish_1，应为 stayed" in m for m in messages), messages
    assert any("applicants.stayed 为 1" in m for m in messages), messages


def test_check_reads_applicants_as_a_user_may_leave_it(tmp_path: Path) -> None:
    """A tester's tampering passed or crashed `check`: another school, a row twice, a summary part gone, a
    column dropped, the file saved again by Excel as GBK. Each is a violation or a clear input error."""
    import json

    from teacheralloc.check import check_plan
    from teacheralloc.errors import InputError

    data = applicants_county()
    write_plan(plan_county(data, POLICY), tmp_path, POLICY, county=data)
    path = tmp_path / "applicants.csv"
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)

    def messages() -> list[str]:
        return [v.message for v in check_plan(data, POLICY, tmp_path).violations]

    table.to_csv(path, index=False, encoding="gbk")  # Excel on Chinese Windows
    assert messages() == []
    moved = table.assign(to_school=table["to_school"].where(table["teacher_id"] != "UV", "R1"))
    pd.concat([moved, moved.iloc[:1]]).to_csv(path, index=False, encoding="utf-8-sig")
    found = messages()
    assert any("UV：调往学校为 R1，plan.csv 中为 R2" in m for m in found), found
    assert any("重复列出" in m for m in found), found
    table.assign(stage=table["stage"].where(table["teacher_id"] != "RV", "junior")).to_csv(
        path, index=False, encoding="utf-8-sig")
    found = messages()
    assert any(m.startswith("applicants.csv 第 3 行 RV：学段为 junior") for m in found), found
    table.drop(columns=["outcome"]).to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(InputError) as caught:
        check_plan(data, POLICY, tmp_path)
    assert "applicants.csv" in str(caught.value.problems[0].file)
    assert "stage" not in str(caught.value.problems[0].expected)  # a known column is no 未识别的列
    table.to_csv(path, index=False, encoding="utf-8-sig")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([lines[0], lines[1] + ",x,y", *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:  # a crash (exit 70) before
        check_plan(data, POLICY, tmp_path)
    assert [(p.row, p.rule) for p in caught.value.problems] == [(2, "plan_file")]
    table.to_csv(path, index=False, encoding="utf-8-sig")
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    del summary["applicants"]
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    assert any("summary.json 的 applicants 应为各项人数" in m for m in messages())


def test_a_wish_barred_by_a_pin_says_so() -> None:
    """A not_to_school pin on the wished school is what keeps the applicant (a tester's reason named the
    distance limit instead, which a wished move is not bound by)."""
    from tests.model.counties import pins

    plan = plan_county(applicants_county(), POLICY, pins=pins(("UV", "not_to_school", "R2")))
    rows = plan.applicants.set_index("teacher_id")
    assert rows.at["UV", "outcome"] == "stayed"
    assert rows.at["UV", "reason"].startswith("志愿学校：R2（石桥村小学）指定不得调往（pins.csv）")


def test_an_applicant_held_by_the_leaving_cap_is_told() -> None:
    """城关第一小学 has 30 teachers for 20 posts, 12 of them asking for 山岭村小学 (10 short): the yearly
    leaving cap lets some go; the others read what held them (the reason said 调出会加大缺编 of a school
    with a surplus: a tester)."""
    teachers = [*staff("U", "U1", 18),
                *[teacher(f"V{i:02d}", "U1", volunteer=True, wishes=("R1",)) for i in range(12)],
                *staff("R", "R1", 10)]
    data = county([school("U1"), school("R1")], [grade("U1", 1, 10, 380), grade("R1", 1, 10, 380)], teachers,
                  {("U1", "R1"): 10})
    plan = plan_county(data, POLICY)
    kept = plan.applicants[plan.applicants["outcome"] == "stayed"]
    assert len(kept) and len(plan.moves) < 10
    assert kept["reason"].str.contains("本校本年调出已达上限").all(), kept["reason"].tolist()
