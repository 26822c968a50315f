"""The apply plumbing, proven with steps defined here (the ladder's own steps come later)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from asyncshift.cli import main
from asyncshift.runner.steps import STEPS, Report, StepInput, Transformed, step


class _Rename(cst.CSTTransformer):
    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value="bar") if updated.value == "foo" else updated


@pytest.fixture
def rename_step() -> Iterator[str]:
    @step("rename-foo", "foo becomes bar (a test step)", position=99)
    def rename(given: StepInput) -> Transformed:
        module = cst.parse_module(given.source)
        reports: list[Report | str] = (
            [Report(1, "left `foo_keep` alone")] if "foo_keep" in given.source else []
        )
        return Transformed(module.visit(_Rename()).code, reports)  # a fresh transformer per file

    @step("break-it", "emits code that does not parse (a test step)", position=100)
    def break_it(given: StepInput) -> Transformed:
        return Transformed(given.source + "\ndef (:\n")

    @step("add-adapter", "creates a module beside each file that mentions foo", position=101)
    def add_adapter(given: StepInput) -> Transformed:
        if "foo" not in given.source or given.path.endswith("_adapters.py"):
            return Transformed(given.source)
        target = given.path.removesuffix(".py") + "_adapters.py"
        return Transformed(given.source, new_files={target: f"# for {given.module}\n"})

    yield "rename-foo"
    del STEPS["rename-foo"], STEPS["break-it"], STEPS["add-adapter"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "uses.py").write_bytes(b"foo = 1  # keep this comment\r\nprint(foo)\r\n")
    (tmp_path / "clean.py").write_text("x = 2\n")
    os.chmod(tmp_path / "uses.py", 0o750)
    return tmp_path


def test_steps_lists_the_ladder_in_order(
    rename_step: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["steps"]) == 0
    listed = [line.split(". ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    # the ladder's own steps come first (positions 1, 2, ...), the test steps after them
    assert [line for line in listed if "test step" in line or "foo" in line] == [
        "rename-foo       foo becomes bar (a test step)",
        "break-it         emits code that does not parse (a test step)",
        "add-adapter      creates a module beside each file that mentions foo",
    ]


def test_diff_prints_and_writes_nothing(
    rename_step: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (tree / "uses.py").read_bytes()
    assert main(["apply", rename_step, "--diff", str(tree)]) == 1
    out = capsys.readouterr().out
    assert "-foo = 1  # keep this comment" in out and "+bar = 1  # keep this comment" in out
    assert (tree / "uses.py").read_bytes() == before


def test_check_exits_1_when_something_would_change(rename_step: str, tree: Path) -> None:
    before = (tree / "uses.py").read_bytes()
    assert main(["apply", rename_step, "--check", str(tree)]) == 1
    assert (tree / "uses.py").read_bytes() == before
    assert main(["apply", rename_step, "--check", str(tree / "clean.py")]) == 0


def test_apply_writes_keeping_newlines_comments_and_mode_and_is_idempotent(
    rename_step: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", rename_step, str(tree)]) == 1
    assert (tree / "uses.py").read_bytes() == b"bar = 1  # keep this comment\r\nprint(bar)\r\n"
    assert stat.S_IMODE((tree / "uses.py").stat().st_mode) == 0o750
    assert "1 files changed, 1 unchanged" in capsys.readouterr().err
    assert main(["apply", rename_step, str(tree)]) == 0  # the second run changes nothing
    assert sorted(p.name for p in tree.iterdir()) == ["clean.py", "uses.py"]  # no temp left


def test_jobs_give_the_same_outcomes_as_one_process(
    rename_step: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text("foo = 1\n" if i % 2 else "x = 1\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    assert main(["apply", rename_step, "--jobs", "2", str(tmp_path)]) == 1
    assert "3 files changed, 3 unchanged, 1 skipped" in capsys.readouterr().err
    assert (tmp_path / "m1.py").read_text() == "bar = 1\n"
    assert main(["apply", rename_step, "--check", "-j", "2", str(tmp_path)]) == 0


def test_output_that_does_not_parse_is_never_written(
    rename_step: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (tree / "uses.py").read_bytes()
    assert main(["apply", "break-it", str(tree)]) == 2
    assert (tree / "uses.py").read_bytes() == before
    err = capsys.readouterr().err
    assert f"failed: {tree}/uses.py: the step's output does not parse" in err


def test_unparsable_input_is_skipped_and_reported(
    rename_step: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "broken.py").write_text("foo = (\n")
    assert main(["apply", rename_step, str(tree)]) == 1
    err = capsys.readouterr().err
    assert f"skipped: {tree}/broken.py: does not parse" in err
    assert (tree / "broken.py").read_text() == "foo = (\n"


def test_what_a_step_leaves_alone_is_reported(
    rename_step: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.py").write_text("foo_keep = 1\n")
    assert main(["apply", rename_step, str(tmp_path)]) == 0
    assert "keep.py: left alone: line 1: left `foo_keep` alone" in capsys.readouterr().err


def test_unknown_step_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "no-such-step", "."]) == 2
    assert "unknown step 'no-such-step'" in capsys.readouterr().err


def test_a_step_creates_files_shown_in_diff_and_never_overwrites(
    rename_step: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "add-adapter", "--diff", str(tree)]) == 1
    assert "+++ b/" + str(tree / "uses_adapters.py") in capsys.readouterr().out
    assert not (tree / "uses_adapters.py").exists()
    assert main(["apply", "add-adapter", str(tree)]) == 1
    assert (tree / "uses_adapters.py").read_text() == "# for uses\n"
    (tree / "uses_adapters.py").write_text("# edited by hand\n")
    assert main(["apply", "add-adapter", str(tree)]) == 0  # the file exists: nothing to do
    assert (tree / "uses_adapters.py").read_text() == "# edited by hand\n"
