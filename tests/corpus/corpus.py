"""The real-world corpus: pinned sdists from the package index, read by hand, judged.

The expectation files in ``expected/`` are ground truth written by reading each project's code
against the rule definitions (guides/rules/*.md), never by running asyncshift. This module loads
them, fetches and unpacks the sdists (cached across runs), runs ``check``/``plan`` on them and
scores the findings against the expectation.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HERE = Path(__file__).parent
PROJECTS_FILE = HERE / "projects.toml"
EXPECTED_DIR = HERE / "expected"
CODES = {f"ASH00{n}" for n in range(1, 10)}
VERDICTS = {"true", "false-positive", "miss-acceptable"}
# A check or plan run on one project must never hang the suite.
TOOL_TIMEOUT_S = 120
DOWNLOAD_TIMEOUT_S = 300


def cache_dir() -> Path:
    """Where sdists are kept between runs, so CI downloads each pinned version once."""
    root = os.environ.get("ASYNCSHIFT_TEST_CACHE") or Path.home() / ".cache" / "asyncshift-tests"
    return Path(root) / "sdists"


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    sdist: str
    sha256: str
    reason: str
    paths: tuple[str, ...] = ()  # sub-folders of the unpacked sdist to check; all when empty

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Entry:
    path: str
    lines: tuple[int, int]  # inclusive range; one line is (n, n)
    code: str
    verdict: str
    reason: str

    def matches(self, path: str, line: int, code: str) -> bool:
        return self.path == path and self.code == code and self.lines[0] <= line <= self.lines[1]

    def where(self) -> str:
        first, last = self.lines
        span = str(first) if first == last else f"{first}-{last}"
        return f"{self.path}:{span} {self.code}"


@dataclass(frozen=True)
class EndpointExpectation:
    """How `plan` must show one endpoint: its full route (router prefixes included) and state."""

    path: str
    name: str
    state: str
    route: str | None  # None where the prefix is only known at run time

    def key(self) -> str:
        return f"{self.path}::{self.name}"


@dataclass(frozen=True)
class Expectation:
    project: str
    entries: tuple[Entry, ...]
    session_dependencies: frozenset[str] | None  # "path::function", None when not judged
    endpoints: tuple[EndpointExpectation, ...] = ()


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    code: str
    message: str

    def where(self) -> str:
        return f"{self.path}:{self.line} {self.code}"


@dataclass
class Score:
    project: str
    findings: list[Finding] = field(default_factory=list)
    true_positives: list[tuple[Finding, Entry]] = field(default_factory=list)
    known_false_positives: list[tuple[Finding, Entry]] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    misses: list[Entry] = field(default_factory=list)
    hazards_found: list[Entry] = field(default_factory=list)  # distinct `true` entries reported
    acceptable_misses: list[Entry] = field(default_factory=list)
    dependencies_missing: list[str] = field(default_factory=list)
    dependencies_extra: list[str] = field(default_factory=list)
    endpoint_problems: list[str] = field(default_factory=list)

    @property
    def expected_true(self) -> int:
        return len(self.hazards_found) + len(self.misses)

    @property
    def precision(self) -> float | None:
        judged = len(self.true_positives) + len(self.known_false_positives) + len(self.new_findings)
        return len(self.true_positives) / judged if judged else None

    @property
    def recall(self) -> float | None:
        """Hazards (expected `true` entries) reported at least once, over all of them."""
        return len(self.hazards_found) / self.expected_true if self.expected_true else None

    def problems(self) -> list[str]:
        """What makes the project fail: unreviewed findings, vanished hazards, plan drift."""
        out = [
            f"new finding, review it: {f.where()}: {f.message} -- then add it to "
            f"tests/corpus/expected/{self.project}.toml with a verdict"
            for f in self.new_findings
        ]
        out += [
            f"vanished (expected true, not reported): {e.where()}: {e.reason}" for e in self.misses
        ]
        out += [f"plan: session dependency not listed: {d}" for d in self.dependencies_missing]
        out += [
            f"plan: listed as a session dependency but is not one: {d}"
            for d in self.dependencies_extra
        ]
        out += [f"plan: {p}" for p in self.endpoint_problems]
        return out


def load_projects() -> list[Project]:
    data = tomllib.loads(PROJECTS_FILE.read_text(encoding="utf-8"))
    return [
        Project(
            name=p["name"],
            version=p["version"],
            sdist=p["sdist"],
            sha256=p["sha256"],
            reason=p["reason"],
            paths=tuple(p.get("paths", ())),
        )
        for p in data["project"]
    ]


def load_expectation(project: Project) -> Expectation:
    file = EXPECTED_DIR / f"{project.name}.toml"
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    entries = []
    for raw in data.get("entry", []):
        line = raw["line"]
        lines = (line, line) if isinstance(line, int) else (int(line[0]), int(line[1]))
        entries.append(Entry(raw["path"], lines, raw["code"], raw["verdict"], raw["reason"]))
    plan = data.get("plan", {})
    deps = plan.get("session_dependencies")
    endpoints = tuple(
        EndpointExpectation(e["path"], e["name"], e["state"], e.get("route"))
        for e in plan.get("endpoint", [])
    )
    return Expectation(
        project.name, tuple(entries), None if deps is None else frozenset(deps), endpoints
    )


def fetch_sdist(project: Project) -> Path:
    """The pinned sdist from the cache, downloaded with pip on a miss; checked by sha256."""
    folder = cache_dir()
    target = folder / project.sdist
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(folder),
            project.pin,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S)
        if done.returncode != 0 or not target.exists():
            raise RuntimeError(
                f"could not download {project.pin} as {project.sdist} into {folder} "
                f"(pip exit {done.returncode}): {done.stderr[-2000:]}\n"
                "the corpus needs the package index once; after that the cache is used"
            )
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != project.sha256:
        raise RuntimeError(
            f"{target} has sha256 {digest}, projects.toml pins {project.sha256}: the ground truth "
            f"was read on the pinned file; delete the cached file to download it again"
        )
    return target


def unpack(sdist: Path, into: Path, paths: tuple[str, ...] = ()) -> Path:
    """Unpack the sdist (only the checked `paths` under its top folder, when given) and return
    that top folder. Skipping the rest matters: one sdist ships a whole virtualenv."""
    into.mkdir(parents=True, exist_ok=True)

    def wanted(name: str) -> bool:
        inside = name.split("/", 1)[1] if "/" in name else ""
        return not paths or any(
            inside == p or inside.startswith(p.rstrip("/") + "/") for p in paths
        )

    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as archive:
            archive.extractall(into, [n for n in archive.namelist() if wanted(n)])
    else:
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if wanted(m.name)]
            if sys.version_info >= (3, 12):
                archive.extractall(into, members, filter="data")
            else:
                archive.extractall(into, members)
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def run_tool(command: str, root: Path, paths: tuple[str, ...], extra: list[str]) -> Any:
    targets = [str(root / p) for p in paths] or [str(root)]
    argv = [sys.executable, "-m", "asyncshift", command, "--format", "json", *extra, *targets]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=root, timeout=TOOL_TIMEOUT_S)
    if done.returncode not in (0, 1):
        raise RuntimeError(
            f"`asyncshift {command}` exited {done.returncode} on {root}: {done.stderr}"
        )
    return json.loads(done.stdout)


def relative(path: str, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


def findings_of(report: list[dict[str, Any]], root: Path) -> list[Finding]:
    return [
        Finding(relative(f["path"], root), int(f["line"]), f["code"], f["message"]) for f in report
    ]


def dependencies_of(plan: dict[str, Any], root: Path) -> set[str]:
    """`plan` lists dependencies as 'PATH:LINE: NAME, kind'; reduce them to 'path::NAME'."""
    out = set()
    for text in plan.get("dependencies", []):
        location, _, rest = text.partition(": ")
        path = location.rsplit(":", 1)[0]
        name = rest.split(",", 1)[0].strip()
        out.add(f"{relative(path, root)}::{name}")
    return out


def endpoints_of(plan: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """`plan`'s endpoints keyed 'path::name' (the first one where a file repeats a name)."""
    out: dict[str, dict[str, Any]] = {}
    for endpoint in plan.get("endpoints", []):
        out.setdefault(f"{relative(endpoint['path'], root)}::{endpoint['name']}", endpoint)
    return out


def compare_endpoints(
    expected: tuple[EndpointExpectation, ...], shown: dict[str, dict[str, Any]]
) -> list[str]:
    problems = []
    for want in expected:
        got = shown.get(want.key())
        if got is None:
            problems.append(f"endpoint {want.key()} not shown")
            continue
        if want.route is not None and got["route"] != want.route:
            problems.append(f"{want.key()} shown as route {got['route']!r}, it is {want.route!r}")
        if got["state"] != want.state:
            problems.append(f"{want.key()} shown as {got['state']!r}, it is {want.state!r}")
    return problems


def score(
    expectation: Expectation,
    findings: list[Finding],
    deps: set[str] | None,
    endpoints: dict[str, dict[str, Any]] | None = None,
) -> Score:
    result = Score(expectation.project, findings=list(findings))
    matched: set[Entry] = set()
    for finding in findings:
        entry = next(
            (e for e in expectation.entries if e.matches(finding.path, finding.line, finding.code)),
            None,
        )
        if entry is None:
            result.new_findings.append(finding)
        elif entry.verdict == "false-positive":
            result.known_false_positives.append((finding, entry))
        else:  # "true", or a "miss-acceptable" hazard the tool did find after all
            result.true_positives.append((finding, entry))
            matched.add(entry)
    for entry in expectation.entries:
        if entry in matched:
            if entry.verdict == "true":
                result.hazards_found.append(entry)
            continue
        if entry.verdict == "true":
            result.misses.append(entry)
        elif entry.verdict == "miss-acceptable":
            result.acceptable_misses.append(entry)
    if expectation.session_dependencies is not None and deps is not None:
        result.dependencies_missing = sorted(expectation.session_dependencies - deps)
        result.dependencies_extra = sorted(deps - expectation.session_dependencies)
    if endpoints is not None:
        result.endpoint_problems = compare_endpoints(expectation.endpoints, endpoints)
    return result


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def table(scores: list[Score]) -> list[str]:
    """Per project and in total: findings (true / known false / new), hazards reported out of
    the expected ones, misses, precision (over findings) and recall (over hazards)."""
    head = (
        f"{'project':<26}{'findings':>9}{'TP':>5}{'FP':>5}{'new':>5}{'hazards':>9}{'miss':>6}"
        f"{'prec':>7}{'recall':>8}"
    )
    lines = [head, "-" * len(head)]
    total = Score("TOTAL")
    for s in scores:
        lines.append(_row(s))
        total.findings += s.findings
        total.true_positives += s.true_positives
        total.known_false_positives += s.known_false_positives
        total.new_findings += s.new_findings
        total.misses += s.misses
        total.hazards_found += s.hazards_found
    lines += ["-" * len(head), _row(total)]
    return lines


def _row(s: Score) -> str:
    hazards = f"{len(s.hazards_found)}/{s.expected_true}"
    return (
        f"{s.project:<26}{len(s.findings):>9}{len(s.true_positives):>5}"
        f"{len(s.known_false_positives):>5}{len(s.new_findings):>5}{hazards:>9}{len(s.misses):>6}"
        f"{percent(s.precision):>7}{percent(s.recall):>8}"
    )
