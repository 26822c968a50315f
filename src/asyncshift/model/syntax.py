"""Small readings of the syntax that the collector needs: literals, comments, arguments."""

from __future__ import annotations

import re

import libcst as cst

from asyncshift.model.records import Hazard, Place

_SUPPRESSION = re.compile(r"#\s*asyncshift:\s*ignore(?:\[([A-Z0-9,\s]+)\])?")


def literal_number(node: cst.BaseExpression) -> tuple[bool, float | None]:
    """(is a literal number or None, its value)."""
    if isinstance(node, cst.Name) and node.value == "None":
        return True, None
    if isinstance(node, cst.Integer | cst.Float):
        return True, float(node.evaluated_value)
    return False, None


def suppressions(source: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match:
            codes = match.group(1)
            found[number] = {c.strip() for c in codes.split(",")} if codes else {"*"}
    return found


def eager_lazy_argument(call: cst.Call) -> bool:
    """``relationship(..., lazy="selectin")``: loaded with its owner, never lazily."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "lazy":
            value = arg.value
            if isinstance(value, cst.SimpleString):
                return value.evaluated_value in ("selectin", "joined", "subquery", "immediate")
    return False


def middleware_hazard(place: Place, where: str) -> Hazard:
    return Hazard(
        "ASH005",
        place,
        f"sessions created or closed in a {where} (or @app.middleware('http')): it runs the "
        "app in another task, so context-scoped sessions and their teardown drift apart. Use "
        "the pure ASGI SessionScopeMiddleware and let it close them",
    )


def is_test_fixture(node: cst.FunctionDef) -> bool:
    """`@pytest.fixture` / `@fixture(...)`: a test's session, never a request's dependency."""
    for decorator in node.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        name = target.attr.value if isinstance(target, cst.Attribute) else None
        if isinstance(target, cst.Name):
            name = target.value
        if name in ("fixture", "yield_fixture"):
            return True
    return False
