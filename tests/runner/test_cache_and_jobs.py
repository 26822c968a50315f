"""The content-hash cache and parallel parsing give the same findings as a plain run."""

from __future__ import annotations

from pathlib import Path

from asyncshift.check.run import check_paths
from asyncshift.runner import FactsCache

HAZARD = "import time\n\nasync def handler():\n    time.sleep({n})\n"


def make_tree(root: Path, files: int) -> None:
    for n in range(files):
        (root / f"m{n}.py").write_text(HAZARD.format(n=n))


def test_parallel_parsing_finds_the_same(tmp_path: Path) -> None:
    make_tree(tmp_path, 12)
    serial = check_paths([tmp_path]).findings
    parallel = check_paths([tmp_path], jobs=2).findings
    assert len(serial) == 12 and parallel == serial


def test_a_warm_cache_serves_unchanged_files_and_reparses_changed_ones(tmp_path: Path) -> None:
    tree, cache_dir = tmp_path / "tree", tmp_path / "cache"
    tree.mkdir()
    make_tree(tree, 3)
    cache = FactsCache(cache_dir)
    cold = check_paths([tree], cache=cache).findings
    assert len(facts_in(cache_dir)) == 3 and len(runs_in(cache_dir)) == 1
    assert check_paths([tree], cache=cache).findings == cold  # the whole run, from the cache
    assert len(runs_in(cache_dir)) == 1
    (tree / "m0.py").write_text("x = 1\n")  # fixed: its old facts must not be served
    warm = check_paths([tree], cache=cache).findings
    assert [f.path for f in warm] == [str(tree / "m1.py"), str(tree / "m2.py")]
    assert len(facts_in(cache_dir)) == 4 and len(runs_in(cache_dir)) == 2
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"


def facts_in(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.rglob("*.pickle") if p.parent.name != "runs"]


def runs_in(cache_dir: Path) -> list[Path]:
    return list((cache_dir / "runs").glob("*.pickle"))


def test_a_copied_file_hits_the_cache_under_its_own_path(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.py").write_text(HAZARD.format(n=1))
    (tmp_path / "b" / "x.py").write_text(HAZARD.format(n=1))
    findings = check_paths([tmp_path / "a", tmp_path / "b"], cache=cache).findings
    assert [f.path for f in findings] == [
        str(tmp_path / "a" / "x.py"),
        str(tmp_path / "b" / "x.py"),
    ]
    assert len(facts_in(tmp_path / "cache")) == 1
