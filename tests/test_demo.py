import re
import subprocess
import sys


def test_demo_shows_the_leak_and_the_cure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asyncshift.demo"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    legacy, scoped = result.stdout.split("\nasyncshift:")
    stranded = [int(n) for n in re.findall(r"(\d+) connections still checked out", legacy)]
    assert stranded and stranded[0] > 0
    assert "24/24 requests OK" in scoped
    assert "24 distinct sessions; 0 connections still checked out" in scoped


def test_the_main_job_migrates_the_example_service_with_its_tests_green() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asyncshift.ladder_demo"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"its own tests before any step: \d+ passed", out)
    steps = re.findall(
        r"^(scope-sessions|async-engine|endpoints|depends)\s+(\d+)\s+.*\s(passed|no change)$",
        out,
        re.M,
    )
    assert [name for name, _, _ in steps] == [
        "scope-sessions",
        "async-engine",
        "endpoints",
        "depends",
    ]
    assert all(int(files) > 0 for _, files, _ in steps)
