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
