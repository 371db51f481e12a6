"""Policy defaults, their sources, overrides and the errors of bad overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from teacheralloc.errors import InputError
from teacheralloc.policy import Policy, default_data, load_policy


def _leaf_keys(data: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            keys.extend(_leaf_keys(value, path))
        else:
            keys.append(path)
    return keys


def test_defaults_are_the_national_numbers() -> None:
    policy = Policy.default()
    assert policy.staffing.students_per_staff["primary"] == 19
    assert policy.staffing.students_per_staff["junior"] == 13.5
    assert policy.indicators.per_100_students.backbone["primary"] == 1.0
    assert policy.indicators.per_100_students.pe_arts["junior"] == 0.9
    assert policy.indicators.per_100_students.higher_degree["junior"] == 5.3
    assert (policy.indicators.cv_max["primary"], policy.indicators.cv_max["junior"]) == (0.50, 0.45)
    assert policy.rotation.min_share_of_eligible == 0.10
    assert policy.rotation.min_backbone_share_of_rotators == 0.20
    assert policy.rotation.eligible_years_at_school == 6


def test_every_default_number_has_a_source() -> None:
    policy = Policy.default()
    data = {k: v for k, v in default_data().items() if k != "sources"}
    missing = [key for key in _leaf_keys(data) if policy.source(key) == "未注明来源"]
    assert missing == []
    assert "[R]" in policy.source("staffing.small_school.staff_per_class.primary")  # unconfirmed, and says so


def test_dataset_policy_file_then_cli_file_override_in_order(tmp_path: Path) -> None:
    dataset = tmp_path / "county"
    dataset.mkdir()
    (dataset / "policy.yaml").write_text("staffing:\n  small_school:\n    staff_per_class: {primary: 2.0}\n",
                                         encoding="utf-8")
    cli_file = tmp_path / "p.yaml"
    cli_file.write_text("rotation:\n  eligible_years_at_school: 9\n", encoding="utf-8")
    policy = load_policy(cli_file, dataset=dataset)
    assert policy.staffing.small_school.staff_per_class["primary"] == 2.0
    assert policy.staffing.small_school.staff_per_class["junior"] == 2.5  # untouched sibling keeps its default
    assert policy.rotation.eligible_years_at_school == 9
    assert "用户设置" in policy.source("rotation.eligible_years_at_school")
    assert policy.source("rotation.min_share_of_eligible").startswith("[S]")


def test_empty_policy_file_means_defaults(tmp_path: Path) -> None:
    empty = tmp_path / "policy.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_policy(empty) == Policy.default()


def test_bad_overrides_are_all_named_by_key(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "staffing:\n  students_per_stafff: {primary: 20}\n  small_school: {method: avg}\n"
        "rotation: {min_share_of_eligible: 2}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_policy(bad)
    keys = {p.column for p in caught.value.problems}
    assert keys == {"staffing.students_per_stafff", "staffing.small_school.method", "rotation.min_share_of_eligible"}
    # each at its line, as a scenario file's (policy.yaml said a dotted key and no line)
    rows = {p.column: p.row for p in caught.value.problems}
    assert rows == {"staffing.students_per_stafff": 2, "staffing.small_school.method": 3,
                    "rotation.min_share_of_eligible": 4}
    report = caught.value.report()
    assert "policy.yaml" in report and "不大于 1" in report and "检查拼写" in report
    assert "以下之一：mean、max" in report  # HR reads Chinese: not pydantic's "'mean' or 'max'", nor its English
    assert not any(word in report for word in ("Extra inputs", "Input should", "' or '"))


def test_negative_weights_and_scores_are_refused(tmp_path: Path) -> None:
    """A negative weight would reward the shortage its tier counts (rural −2: the plan left rural
    schools short and reported it as stopped by the time limit); each one is named."""
    bad = tmp_path / "policy.yaml"
    bad.write_text("plan:\n  headcount_weight: {rural: -2}\n  subject_weight: {music: -1}\n"
                   "  balance_weight: {backbone: -1}\n  wish_score: [-3, 2, 1]\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_policy(bad)
    keys = {p.column for p in caught.value.problems}
    assert keys == {"plan.headcount_weight.rural", "plan.subject_weight.music", "plan.balance_weight.backbone",
                    "plan.wish_score.0"}
    assert "不小于 0" in caught.value.report()


def test_misspelt_map_keys_and_yes_no_for_numbers_are_named(tmp_path: Path) -> None:
    """Keys of maps and items of lists were taken as they came: `headcount_weight: {village: 2}` was
    silently ignored (the plan the default one); YAML's `true` was read as 1 year and `1` as true. Each
    is now an error at its key, in Chinese; a source for no setting names that key, not the whole policy."""
    bad = tmp_path / "policy.yaml"
    bad.write_text("plan:\n  headcount_weight: {village: 2}\n  subject_weight: {musik: 2}\n"
                   "  wish_score: [3, true, 1]\n"
                   "rotation:\n  area_level: {city: 4}\n  eligible_years_at_school: true\n"
                   "support: {from_areas: [urban, city]}\nstaffing: {count_on_leave: 1}\n"
                   "sources: {foo.bar: x}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_policy(bad)
    found = {p.column: p.expected for p in caught.value.problems}
    assert set(found) == {"plan.headcount_weight.village", "plan.subject_weight.musik", "plan.wish_score",
                          "rotation.area_level.city", "rotation.eligible_years_at_school", "support.from_areas.1",
                          "staffing.count_on_leave", "sources.foo.bar"}
    assert found["rotation.eligible_years_at_school"] == found["plan.wish_score"] == "数字"
    assert found["staffing.count_on_leave"] == "true 或 false"
    assert found["sources.foo.bar"] == "没有这个设置项"
    assert "以下之一：teaching_point（教学点）、rural（乡村）、town（镇区）、urban（城区）" in found["plan.headcount_weight.village"]
    assert not any(word in caught.value.report() for word in ("Value error", "Input should", "{'"))
    fine = tmp_path / "fine.yaml"
    fine.write_text("plan: {subject_weight: {default: 1.5, music: 3}, max_km: null}\n"
                    "rotation: {eligible_years_at_school: 6.5}\n", encoding="utf-8")
    policy = load_policy(fine)
    assert policy.plan.subject_weight_of("music") == 3 and policy.plan.subject_weight_of("chinese") == 1.5


@pytest.mark.parametrize(("text", "row", "meaning"), [
    ("staffing: [unclosed\nplan: {}\n", 2, "方括号 [ ] 没有闭合"),
    ("staffing:\n\tstudents_per_staff: {primary: 19}\n", 2, "Tab 字符"),
    ("plan:\n  max_km: 10: 20\n", 2, "冒号的位置不对"),
])
def test_unreadable_yaml_is_an_input_error_at_its_line_in_chinese(tmp_path: Path, text: str, row: int,
                                                                   meaning: str) -> None:
    """The parser's English (“while parsing a flow mapping”) and no line was all HR got."""
    bad = tmp_path / "policy.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_policy(bad)
    [problem] = caught.value.problems
    assert problem.row == row and meaning in problem.expected and "while" not in caught.value.report()


@pytest.mark.parametrize(
    ("gender", "birth", "retires"),
    [
        ("M", date(1964, 12, 5), date(2024, 12, 1)),  # before the reform: 60
        ("M", date(1965, 1, 5), date(2025, 2, 1)),  # first step: 60 years 1 month
        ("M", date(1965, 5, 5), date(2025, 7, 1)),  # second step: 60 years 2 months
        ("M", date(1980, 1, 1), date(2043, 1, 1)),  # capped at 63
        ("F", date(1975, 3, 1), date(2031, 7, 1)),  # 55 + 16 months
    ],
)
def test_retirement_age_follows_the_2025_reform(gender: str, birth: date, retires: date) -> None:
    assert Policy.default().retirement.retirement_date(gender, birth) == retires
