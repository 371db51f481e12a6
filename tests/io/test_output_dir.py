"""Output folders: a command that fails after making its folder leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from teacheralloc.errors import InputError, Problem
from teacheralloc.io.write import new_output_dir


def test_a_failed_command_removes_the_folder_it_made(tmp_path: Path) -> None:
    """Pins no plan can honour are found only after the output folder is checked (and made): the error
    says nothing was written, so no empty folder may stay."""
    out = tmp_path / "plan"
    with pytest.raises(InputError), new_output_dir(out):
        assert out.is_dir()
        raise InputError([Problem("pins.csv", 2, "must_move", "是", "…")])
    assert not out.exists()


def test_a_folder_that_was_there_or_got_files_stays(tmp_path: Path) -> None:
    there = tmp_path / "there"
    there.mkdir()
    with pytest.raises(RuntimeError), new_output_dir(there):
        raise RuntimeError("solver")
    assert there.is_dir()
    written = tmp_path / "written"
    with pytest.raises(RuntimeError), new_output_dir(written):
        (written / "plan.csv").write_text("x", encoding="utf-8")
        raise RuntimeError("report")
    assert (written / "plan.csv").exists()
