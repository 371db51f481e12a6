"""Years of service by the calendar: a teacher at the school since 1 September six years before the reference
date has served the rotation rule's 6 years (days ÷ 365.25 gives 5.9986 and leaves them out)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import AS_OF, make_county

from teacheralloc.domain import full_years
from teacheralloc.io.pins import empty_pins
from teacheralloc.model.candidates import teacher_flags
from teacheralloc.policy import Policy


def test_six_full_years_make_a_teacher_rotation_eligible() -> None:
    county = make_county()
    teachers = county.teachers.copy()
    teachers["status"] = "active"
    teachers["volunteer"] = False
    teachers["service_until"] = pd.NaT
    teachers["birth_date"] = pd.Timestamp("1985-03-01")
    teachers["school_since"] = pd.Timestamp(date(AS_OF.year - 6, AS_OF.month, AS_OF.day))
    teachers.loc[teachers.index[1], "school_since"] = pd.Timestamp(date(AS_OF.year - 6, AS_OF.month, AS_OF.day + 1))
    flags = teacher_flags(county.replace(teachers=teachers), Policy.default(), empty_pins())
    assert flags["rotation_eligible"].iloc[0]
    assert not flags["rotation_eligible"].iloc[1]  # one day short of six years


def test_full_years_count_whole_calendar_months() -> None:
    since = pd.Series(pd.to_datetime(["2020-09-01", "2020-09-02", "2026-01-31", "2019-02-28", None]))
    years = full_years(since, pd.Timestamp("2026-09-01"))
    assert years.iloc[:4].tolist() == pytest.approx([6.0, 5 + 11 / 12, 7 / 12, 7.5])
    assert pd.isna(years.iloc[4])
    # a month ends on its last day where the later month is shorter (民法典第二百零二条)
    assert full_years(pd.Series([pd.Timestamp("2020-01-31")]), pd.Timestamp("2020-02-29")).iloc[0] == pytest.approx(1 / 12)
    # to a later date: retiring on 2031-09-01 is 5 years away on 2026-09-01, a day earlier is not
    ahead = full_years(pd.Timestamp("2026-09-01"), pd.Series(pd.to_datetime(["2031-09-01", "2031-08-31"])))
    assert ahead.tolist() == pytest.approx([5.0, 4 + 11 / 12])


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1960, 1, 1), date(2060, 12, 31)), st.dates(date(1960, 1, 1), date(2060, 12, 31)))
def test_full_years_agree_with_relativedelta_forward(start: date, end: date) -> None:
    """The optimizer's vectorised count and the calendar arithmetic the checker uses agree on every span
    forward in time (the only direction the rules count in)."""
    start, end = min(start, end), max(start, end)
    span = relativedelta(end, start)
    got = full_years(pd.Series([pd.Timestamp(start)]), pd.Timestamp(end)).iloc[0]
    assert round(got * 12) == span.years * 12 + span.months
