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


def test_example_service_ships_inside_the_package_whole_and_clean(wheel: Path) -> None:
    """Every file of guides/example-service is in the wheel under asyncshift/example_service/."""
    names = set(zipfile.ZipFile(wheel).namelist())
    guide = ROOT / "guides" / "example-service"

    def is_leftover(relative: Path) -> bool:  # what local runs of the service and tools leave
        return relative.suffix == ".db" or any(
            part.startswith(".") or part in ("__pycache__", "exports") for part in relative.parts
        )

    expected = {
        "asyncshift/example_service/" + path.relative_to(guide).as_posix()
        for path in guide.rglob("*")
        if path.is_file() and not is_leftover(path.relative_to(guide))
    }
    assert "asyncshift/example_service/app/main.py" in expected
    assert "asyncshift/example_service/tests/conftest.py" in expected
    assert expected <= names, sorted(expected - names)
    shipped = {n for n in names if n.startswith("asyncshift/example_service/")}
    assert shipped == expected, sorted(shipped - expected)
    assert "asyncshift/examples.py" in names


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
    located = subprocess.run(
        [
            str(python),
            "-c",
            "from asyncshift.examples import example_service_path;print(example_service_path())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    service = Path(located)
    assert service.is_relative_to(env_dir), f"{service} is not inside the installed package"
    assert service.name == "example_service"
    assert (service / "app" / "main.py").is_file() and (service / "tests" / "conftest.py").is_file()
    cli = subprocess.run(
        [str(env_dir / "bin" / "asyncshift"), "--version"], capture_output=True, text=True
    )
    assert cli.returncode == 0 and "asyncshift 0.1.0" in cli.stdout
