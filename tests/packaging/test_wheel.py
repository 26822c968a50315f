"""The built wheel installs into a fresh environment and ships codemods inside the package."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("asyncshift-*.whl")
    return built


def test_codemods_ship_as_asyncshift_codemods_never_top_level(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "asyncshift/codemods/__init__.py" in names
    assert "asyncshift/py.typed" in names
    assert not [n for n in names if n.startswith("codemods/")]


def test_wheel_installs_into_a_fresh_virtualenv_and_imports(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # Dependencies come from the package index (pip's cache makes this quick after the first
    # run); the point is that the wheel's own metadata is enough to get a working install.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    probe = (
        "import asyncshift, asyncshift.codemods, importlib.util;"
        "assert importlib.util.find_spec('codemods') is None, 'top-level codemods installed';"
        "print(asyncshift.__version__, asyncshift.codemods.__name__)"
    )
    result = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["0.1.0", "asyncshift.codemods"]
    cli = subprocess.run(
        [str(env_dir / "bin" / "asyncshift"), "--version"], capture_output=True, text=True
    )
    assert cli.returncode == 0 and "asyncshift 0.1.0" in cli.stdout
