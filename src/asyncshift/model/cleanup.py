"""F3 in the syntax: after a ``yield``, cleanup that can raise before the session is released."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
import libcst.matchers as m

from asyncshift.model import names
from asyncshift.model.records import Hazard, Place


def statement_call(statement: cst.BaseStatement) -> cst.Call | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        expr = statement.body[0]
        if isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call):
            return expr.value
    return None


def _method(call: cst.Call) -> str:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else ""


def _scan_block(
    function: str,
    body: list[cst.BaseStatement],
    after_yield: bool,
    place: Callable[[cst.CSTNode], Place],
) -> Hazard | None:
    raising: cst.Call | None = None
    for statement in body:
        if not after_yield:
            after_yield = bool(m.findall(statement, m.Yield())) and not isinstance(
                statement, cst.Try
            )
            continue
        call = statement_call(statement)
        if call is None:
            continue
        method = _method(call)
        if method in names.RAISING_CLEANUP and raising is None:
            raising = call
        elif method in names.RELEASES and raising is not None:
            return Hazard(
                "ASH004",
                place(raising),
                f"in {function}: `.{_method(raising)}()` can raise before `.{method}()` "
                "releases the session, leaving it (and its connection) bound for later "
                "requests (F3); release it in a `finally:` first, or scope it with "
                "request_scoped_session + SessionScopeMiddleware",
            )
    return None


def cleanup_hazards(node: cst.FunctionDef, place: Callable[[cst.CSTNode], Place]) -> list[Hazard]:
    """For a generator function: raising cleanup after its yield, and in its ``finally:``."""
    function = node.name.value
    found = []
    for block in m.findall(node.body, m.IndentedBlock()):
        assert isinstance(block, cst.IndentedBlock)
        found.append(_scan_block(function, list(block.body), False, place))
    for try_node in m.findall(node.body, m.Try()):
        assert isinstance(try_node, cst.Try)
        final = try_node.finalbody
        if final is not None and isinstance(final.body, cst.IndentedBlock):
            found.append(_scan_block(function, list(final.body.body), True, place))
    return [hazard for hazard in found if hazard is not None]
