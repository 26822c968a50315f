"""Apps, routers, endpoints and dependencies, from resolved decorators and calls.

An endpoint is a function decorated by a route method of something the model typed as a
FastAPI/Starlette app or an ``APIRouter`` (or registered with ``add_api_route``); its full path
joins the prefixes of every ``include_router`` that leads to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg
from asyncshift.model.infer import Ctx
from asyncshift.model.records import MODULE_FRAME, Frame

if TYPE_CHECKING:
    from asyncshift.model.repo import RepoModel

Origin = tuple[str, str, str]  # (file, frame qualname, name): where a router or app is bound
MAX_INCLUDES = 6


@dataclass(frozen=True)
class Endpoint:
    path: str
    frame: Frame
    fq: str
    verb: str
    routes: tuple[str, ...]  # full paths, prefixes included
    is_async: bool


@dataclass(frozen=True)
class Include:
    parent: Origin | None
    prefix: str


def _text(expr: Expr | None) -> str:
    return str(expr[1]) if expr is not None and expr[0] == "str" else ""


class Routes:
    def __init__(self, model: RepoModel) -> None:
        self.model = model

    # -- where an app or router is bound --------------------------------------------------------

    def origin(self, path: str, frame: Frame, expr: Expr, depth: int = 0) -> Origin | None:
        if depth > 8:
            return None
        model = self.model
        if expr[0] == "n":
            name = expr[1]
            current: Frame | None = frame
            while current is not None:
                values = current.locals.get(name)
                if values is not None:
                    for value in values:
                        if value[0] == "imp" and value[3] is not None:
                            found = self._imported(path, value, depth)
                            if found is not None:
                                return found
                    return (path, current.qualname, name)
                current = model.enclosing(path, current)
            return None
        if expr[0] == "a":
            for base in model.types(path, frame, expr[1]):
                if base[0] == "module":
                    target = model.modules.find(base[1])
                    if target is not None:
                        module_frame = model.files[target].module_frame
                        return self.origin(target, module_frame, ("n", expr[2]), depth + 1)
        return None

    def _imported(self, path: str, value: Expr, depth: int) -> Origin | None:
        _, level, module, name = value
        model = self.model
        target = (
            model.modules.find_relative(path, level, module)
            if level
            else model.modules.find(module)
        )
        if target is None:
            return None
        return self.origin(target, model.files[target].module_frame, ("n", name), depth + 1)

    def _bound_value(self, origin: Origin) -> list[Expr]:
        path, qualname, name = origin
        frame = self.model.frame_at(path, qualname)
        return frame.locals.get(name, []) if frame is not None else []

    def own_prefix(self, origin: Origin) -> str:
        for value in self._bound_value(origin):
            if value[0] == "c":
                prefix = call_arg(value, 99, "prefix")
                if prefix is not None:
                    return _text(prefix)
        return ""

    @cached_property
    def includes(self) -> dict[Origin, list[Include]]:
        found: dict[Origin, list[Include]] = {}
        model = self.model
        for path, frame in model.all_frames():
            for call in frame.calls:
                func = call.expr[1]
                if not (func[0] == "a" and func[2] == "include_router"):
                    continue
                parents = model.types(path, frame, func[1])
                if not t.all_are(parents, lambda p: p in (t.APP, t.ROUTER)):
                    continue
                router = call_arg(call.expr, 0, "router")
                child = self.origin(path, frame, router) if router is not None else None
                if child is None:
                    continue
                parent = self.origin(path, frame, func[1])
                prefix = _text(call_arg(call.expr, 99, "prefix"))
                found.setdefault(child, []).append(Include(parent, prefix))
        return found

    def full_prefixes(self, origin: Origin | None, depth: int = 0) -> list[str]:
        if origin is None:
            return [""]
        own = self.own_prefix(origin)
        includes = self.includes.get(origin, [])
        if not includes or depth > MAX_INCLUDES:
            return [own]
        result = []
        for include in includes:
            for parent in self.full_prefixes(include.parent, depth + 1):
                result.append(parent + include.prefix + own)
        return list(dict.fromkeys(result))

    # -- endpoints --------------------------------------------------------------------------------

    @cached_property
    def endpoints(self) -> list[Endpoint]:
        model = self.model
        found: list[Endpoint] = []
        added = self._added_routes()
        for path, frame in model.all_frames():
            if frame.qualname == MODULE_FRAME:
                continue
            fq = model.fq(path, frame.qualname)
            module_ctx = model.module_ctx(path)
            enclosing = model.enclosing(path, frame) or model.files[path].module_frame
            for decorator in frame.decorators:
                if not (decorator[0] == "c" and decorator[1][0] == "a"):
                    continue
                method = decorator[1][2]
                if method not in t.ROUTE_METHODS:
                    continue
                base = decorator[1][1]
                owners = model.types(path, enclosing, base) or model.typer.types(module_ctx, base)
                if not t.all_are(owners, lambda o: o in (t.APP, t.ROUTER)):
                    continue
                route = _text(call_arg(decorator, 0, "path"))
                verb = "ROUTE" if method == "api_route" else method.upper()
                origin = self.origin(path, enclosing, base)
                routes = tuple(prefix + route for prefix in self.full_prefixes(origin))
                found.append(Endpoint(path, frame, fq, verb, routes, frame.is_async))
                break
            else:
                if fq in added:
                    verb, routes = added[fq]
                    found.append(Endpoint(path, frame, fq, verb, routes, frame.is_async))
        return found

    @cached_property
    def endpoints_fq(self) -> set[str]:
        return {e.fq for e in self.endpoints}

    def _added_routes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """``router.add_api_route("/path", endpoint, methods=["POST"])``."""
        model = self.model
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        for path, frame in model.all_frames():
            for call in frame.calls:
                func = call.expr[1]
                if not (func[0] == "a" and func[2] == "add_api_route"):
                    continue
                owners = model.types(path, frame, func[1])
                if not t.all_are(owners, lambda o: o in (t.APP, t.ROUTER)):
                    continue
                endpoint = call_arg(call.expr, 1, "endpoint")
                if endpoint is None:
                    continue
                targets = model.targets(path, frame, endpoint)
                if len(targets) != 1:
                    continue
                methods = call_arg(call.expr, 99, "methods")
                verb = "GET"
                if methods is not None and methods[0] == "list" and methods[1]:
                    verb = _text(methods[1][0]).upper() or verb
                route = _text(call_arg(call.expr, 0, "path"))
                prefixes = self.full_prefixes(self.origin(path, frame, func[1]))
                found[targets[0]] = (verb, tuple(p + route for p in prefixes))
        return found

    # -- dependencies -----------------------------------------------------------------------------

    def dependencies_of(self, path: str, frame: Frame) -> list[tuple[str, str]]:
        """(parameter, dependency fq) for every resolved ``Depends(...)`` in the parameters."""
        model = self.model
        ctx = model.module_ctx(path)
        found: list[tuple[str, str]] = []
        for param in frame.params:
            candidates: list[tuple[Ctx, Expr]] = []
            if param.default is not None:
                candidates.append((ctx, param.default))
            if param.annotation is not None and param.annotation[0] == "s":
                candidates += [(ctx, e) for e in param.annotation[2][1:]]
            candidates += self._alias_metadata(ctx, param.annotation)
            for where, candidate in candidates:
                target = model.typer.depends_target(where, candidate)
                if target is None:
                    continue
                module_frame = model.files[where.path].module_frame
                for resolved in model.targets(where.path, module_frame, target):
                    found.append((param.name, resolved))
        return found

    def _alias_metadata(self, ctx: Ctx, annotation: Expr | None) -> list[tuple[Ctx, Expr]]:
        """``db: SessionDep`` where ``SessionDep = Annotated[Session, Depends(get_db)]``: the
        metadata, with the context of the module that wrote it (its names are that module's)."""
        if annotation is None or annotation[0] not in ("n", "a"):
            return []
        origin = self.origin(ctx.path, ctx.frame, annotation)
        if origin is None:
            return []
        where = self.model.module_ctx(origin[0])
        metadata: list[tuple[Ctx, Expr]] = []
        for value in self._bound_value(origin):
            if value[0] == "s":
                metadata += [(where, e) for e in value[2][1:]]
        return metadata

    @cached_property
    def depends_targets(self) -> set[str]:
        """Every function some ``Depends(...)`` in the repository resolves to."""
        found: set[str] = set()
        model = self.model
        for path, frame in model.all_frames():
            for call in frame.calls:
                target = model.typer.depends_target(Ctx(path, frame), call.expr)
                if target is not None:
                    found.update(model.targets(path, frame, target))
        return found

    @cached_property
    def entry_points(self) -> dict[str, str]:
        """Where requests enter sync code: fq -> "endpoint", "dependency", "adapt() target"."""
        model = self.model
        found = {e.fq: "endpoint" for e in self.endpoints}
        for fq in sorted(self.depends_targets):
            found.setdefault(fq, "dependency")
        for path, frame in model.all_frames():
            for call in frame.calls:
                if call.expr[2] and model.external_names(path, frame, call.expr[1]) & t.ADAPT:
                    for target in model.targets(path, frame, call.expr[2][0]):
                        found.setdefault(target, "adapt() target")
        return found

    # -- apps -------------------------------------------------------------------------------------

    @cached_property
    def has_app(self) -> bool:
        model = self.model
        for path, frame in model.all_frames():
            for call in frame.calls:
                if model.external_names(path, frame, call.expr[1]) & t.APPS:
                    return True
        return False
