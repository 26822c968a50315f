"""The tutorial harness's own pieces, without downloads (not marked `realworld`)."""

from __future__ import annotations

from pathlib import Path

from tests.realworld.environments import prune_orphans
from tests.realworld.sdists import find_sdist
from tests.realworld.tutorials import summary_counts


def test_summary_counts_reads_the_last_pytest_summary() -> None:
    output = (
        "tests/a.py ..F\n1 passed in 0.1s\n"
        "=== 3 failed, 42 passed, 1 error, 2 warnings in 2.1s ===\n"
    )
    assert summary_counts(output) == {"failed": 3, "passed": 42, "errors": 1}
    assert summary_counts("45 passed, 0 failed\n") == {"passed": 45, "failed": 0}
    assert summary_counts("no tests ran in 0.01s\n") == {}


def test_find_sdist_ignores_other_projects_sharing_the_prefix(tmp_path: Path) -> None:
    for name in (
        "fastapi-crudrouter-0.8.6",
        "fastapi-0.115.0",
        "fastapi-0.99.1",
        "sqlmodel-0.0.50",
    ):
        (tmp_path / f"{name}.tar.gz").write_bytes(b"")
    assert find_sdist(tmp_path, "fastapi", "0.115.0") == tmp_path / "fastapi-0.115.0.tar.gz"
    assert find_sdist(tmp_path, "fastapi", None) == tmp_path / "fastapi-0.115.0.tar.gz"
    assert find_sdist(tmp_path, "fastapi", "0.8.6") is None
    assert find_sdist(tmp_path, "sqlmodel", None) == tmp_path / "sqlmodel-0.0.50.tar.gz"
    assert find_sdist(tmp_path, "flask", None) is None


def test_prune_orphans_drops_only_environments_whose_repository_is_gone(tmp_path: Path) -> None:
    alive, orphan, unmarked = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (alive, orphan, unmarked):
        folder.mkdir()
    (alive / ".repo").write_text(str(tmp_path))
    (orphan / ".repo").write_text(str(tmp_path / "deleted-clone"))
    prune_orphans(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c"]
