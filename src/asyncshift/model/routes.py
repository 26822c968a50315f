"""Reading FastAPI routes and dependencies off the syntax: decorators, add_api_route, Depends."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from asyncshift.model import names


def _text(node: cst.BaseExpression | None) -> str:
    value = node.evaluated_value if isinstance(node, cst.SimpleString) else None
    return value if isinstance(value, str) else "?"


def decorated_route(node: cst.FunctionDef) -> str | None:
    """``@app.get("/items")`` -> ``"GET /items"``; ``api_route`` -> ``"ROUTE /path"``."""
    for decorator in node.decorators:
        call = decorator.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            continue
        method = call.func.attr.value
        if method not in names.ROUTE_METHODS or not isinstance(call.func.value, cst.Name):
            continue
        path = next(
            (a.value for a in call.args if a.keyword is None or a.keyword.value == "path"), None
        )
        verb = "ROUTE" if method == "api_route" else method.upper()
        return f"{verb} {_text(path)}"
    return None


def added_route(call: cst.Call) -> tuple[str, str] | None:
    """``app.add_api_route("/path", endpoint, methods=["POST"])`` -> (endpoint, "POST /path")."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "add_api_route"):
        return None
    positional = [a.value for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    path = positional[0] if positional else keywords.get("path")
    endpoint = positional[1] if len(positional) > 1 else keywords.get("endpoint")
    if not isinstance(endpoint, cst.Name):
        return None
    verb = "GET"
    methods = keywords.get("methods")
    if isinstance(methods, cst.List) and methods.elements:
        first = _text(methods.elements[0].value)
        verb = first.upper() if first != "?" else verb
    return endpoint.value, f"{verb} {_text(path)}"


def annotation_names(node: cst.FunctionDef) -> list[str]:
    """Bare-name parameter annotations: candidates for aliases such as ``SessionDep``."""
    params = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
    return [
        p.annotation.annotation.value
        for p in params
        if p.annotation is not None and isinstance(p.annotation.annotation, cst.Name)
    ]


def depends_names(node: cst.FunctionDef) -> list[str]:
    """The names passed to ``Depends(...)`` in the parameters."""
    found = []
    depends = m.Call(func=m.Name("Depends") | m.Attribute(attr=m.Name("Depends")))
    for call in m.findall(node.params, depends):
        assert isinstance(call, cst.Call)
        if call.args and isinstance(call.args[0].value, cst.Name):
            found.append(call.args[0].value.value)
    return found


def is_http_middleware(node: cst.FunctionDef) -> bool:
    """``@app.middleware("http")``."""
    middleware = m.Call(func=m.Attribute(attr=m.Name("middleware")), args=[m.Arg(m.SimpleString())])
    return any(m.matches(d.decorator, middleware) for d in node.decorators)
