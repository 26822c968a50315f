"""The corpus judge itself: matching by (path, line range, code) and the verdict arithmetic."""

from __future__ import annotations

from tests.corpus.corpus import (
    EndpointExpectation,
    Entry,
    Expectation,
    Finding,
    compare_endpoints,
    score,
)


def _expectation() -> Expectation:
    return Expectation(
        "demo",
        (
            Entry("app/api.py", (10, 14), "ASH002", "true", "sync query inside async endpoint"),
            Entry("app/api.py", (30, 30), "ASH007", "true", "requests.get inside async endpoint"),
            Entry(
                "app/mw.py", (5, 5), "ASH005", "false-positive", "session closed before call_next"
            ),
            Entry(
                "app/deps.py", (8, 8), "ASH008", "miss-acceptable", "getattr(obj, name) is dynamic"
            ),
        ),
        frozenset({"app/db.py::get_db"}),
    )


def test_findings_inside_a_range_are_true_positives_and_unmatched_ones_are_new() -> None:
    findings = [
        Finding("app/api.py", 12, "ASH002", "db.execute"),
        Finding("app/api.py", 13, "ASH002", "db.commit"),
        Finding("app/api.py", 12, "ASH007", "same line, other code"),
        Finding("app/mw.py", 5, "ASH005", "known false positive"),
    ]
    result = score(_expectation(), findings, {"app/db.py::get_db"})
    assert [f.line for f, _ in result.true_positives] == [12, 13]
    assert [f.code for f in result.new_findings] == ["ASH007"]
    assert len(result.known_false_positives) == 1
    assert [e.where() for e in result.misses] == ["app/api.py:30 ASH007"]
    assert [e.code for e in result.acceptable_misses] == ["ASH008"]
    assert result.precision == 2 / 4
    assert result.recall == 1 / 2
    problems = result.problems()
    assert any(p.startswith("new finding, review it: app/api.py:12 ASH007") for p in problems)
    assert any(
        p.startswith("vanished (expected true, not reported): app/api.py:30") for p in problems
    )


def test_a_reported_acceptable_miss_counts_as_found_and_plan_drift_is_a_problem() -> None:
    findings = [
        Finding("app/api.py", 10, "ASH002", "x"),
        Finding("app/api.py", 30, "ASH007", "x"),
        Finding("app/deps.py", 8, "ASH008", "found after all"),
    ]
    result = score(_expectation(), findings, {"app/db.py::get_db", "app/http.py::client"})
    assert len(result.true_positives) == 3
    assert result.misses == [] and result.acceptable_misses == []
    assert result.dependencies_extra == ["app/http.py::client"]
    assert result.problems() == [
        "plan: listed as a session dependency but is not one: app/http.py::client"
    ]


def test_endpoint_routes_and_states_are_compared() -> None:
    want = (
        EndpointExpectation("app/r.py", "upload", "async on a sync session (F4)", "POST /api/x"),
        EndpointExpectation("app/r.py", "health", "no session", None),
        EndpointExpectation("app/r.py", "gone", "async", None),
    )
    shown = {
        "app/r.py::upload": {"route": "POST /x", "state": "async"},
        "app/r.py::health": {"route": "GET /whatever", "state": "no session"},
    }
    assert compare_endpoints(want, shown) == [
        "app/r.py::upload shown as route 'POST /x', it is 'POST /api/x'",
        "app/r.py::upload shown as 'async', it is 'async on a sync session (F4)'",
        "endpoint app/r.py::gone not shown",
    ]
