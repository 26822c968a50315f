"""Typing what flows: a name, an attribute, a call, an annotation, typed after the merge.

Flow-insensitive and conservative: a value's type is every type any of its bindings may have;
what cannot be resolved through imports, definitions and the known libraries is left untyped,
and nothing is concluded from an untyped value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg
from asyncshift.model.records import MODULE_FRAME, Frame
from asyncshift.model.types import NOTHING, Type, Types

if TYPE_CHECKING:
    from asyncshift.model.repo import RepoModel

MAX_DEPTH = 40
BUILTINS = {"open", "list", "set", "tuple", "dict", "property", "staticmethod", "classmethod"}


@dataclass(frozen=True)
class Ctx:
    """Where an expression is typed: a file and one of its frames."""

    path: str
    frame: Frame

    def __hash__(self) -> int:
        return hash((self.path, self.frame.qualname))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Ctx)
            and other.path == self.path
            and other.frame.qualname == self.frame.qualname
        )


class Typer:
    def __init__(self, model: RepoModel) -> None:
        self.model = model
        self.memo: dict[tuple[Ctx, Expr], Types] = {}
        self.active: set[tuple[Ctx, Expr]] = set()

    def reset(self) -> None:
        self.memo.clear()

    # -- expressions ----------------------------------------------------------------------------

    def types(self, ctx: Ctx, expr: Expr) -> Types:
        key = (ctx, expr)
        found = self.memo.get(key)
        if found is not None:
            return found
        if key in self.active or len(self.active) > MAX_DEPTH:
            return NOTHING  # a cycle or a very deep chain: not known, never guessed
        self.active.add(key)
        try:
            result = self._types(ctx, expr)
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def _types(self, ctx: Ctx, expr: Expr) -> Types:
        kind = expr[0]
        if kind == "n":
            return self.name(ctx, expr[1])
        if kind == "a":
            return self.union(self.attribute(ctx, b, expr[2]) for b in self.types(ctx, expr[1]))
        if kind == "c":
            return self.union(self.call(ctx, f, expr) for f in self.types(ctx, expr[1]))
        if kind == "aw":
            return self.types(ctx, expr[1])
        if kind == "union":
            return self.union(self.types(ctx, e) for e in expr[1])
        if kind == "imp":
            return self.model.import_types(ctx.path, expr[1], expr[2], expr[3])
        if kind == "def":
            return self.model.definition_types(ctx.path, expr[1])
        if kind == "ann":
            return self.annotation(ctx, expr[1])
        if kind == "enter":
            return self.union(self.enter(t_) for t_ in self.types(ctx, expr[1]))
        if kind == "iter":
            return self.union(self.element(t_) for t_ in self.types(ctx, expr[1]))
        if kind == "s":
            # `SessionDep = Annotated[Session, Depends(get_db)]`: an alias, typed where it is used
            return frozenset({("annot", ctx.path, expr)})
        if kind == "list":
            items = self.union(self.types(ctx, e) for e in expr[1])
            return frozenset(("list", i) for i in items) if len(items) == 1 else NOTHING
        return NOTHING

    @staticmethod
    def union(parts: Iterable[Types]) -> Types:
        result: set[Type] = set()
        for part in parts:
            result |= part
        return frozenset(result)

    # -- names ----------------------------------------------------------------------------------

    def name(self, ctx: Ctx, name: str) -> Types:
        frame: Frame | None = ctx.frame
        while frame is not None:
            current = Ctx(ctx.path, frame)
            if frame.qualname != MODULE_FRAME and any(p.name == name for p in frame.params):
                return self.model.param_types(current, name)
            values = frame.locals.get(name)
            if values is not None and name not in frame.globals_declared:
                return self.union(self.types(current, v) for v in values)
            if frame.qualname == MODULE_FRAME:
                break
            frame = self.model.enclosing(ctx.path, frame)
        if name in BUILTINS and not self.model.files[ctx.path].star_imports:
            return frozenset({("ext", name)})
        return NOTHING

    # -- attributes -----------------------------------------------------------------------------

    def attribute(self, ctx: Ctx, base: Type, attr: str) -> Types:
        kind = base[0]
        model = self.model
        if kind == "module":
            return model.module_attribute(base[1], attr)
        if kind == "ext":
            return frozenset({("ext", f"{base[1]}.{attr}")})
        if kind in ("session", "registry", "engine", "factory", "connection"):
            if kind == "registry" and attr == "session_factory":
                return frozenset({("factory", base[1])})
            return frozenset({("method", base, attr)})
        if kind in ("select", "result", "scalars", "query", "loop"):
            return frozenset({("method", base, attr)})
        if kind == "request":
            if attr == "state":
                return frozenset({("state", "request")})
            if attr == "app":
                return frozenset({t.APP})
            return NOTHING
        if kind == "app" and attr == "state":
            return frozenset({("state", "app")})
        if kind == "state":
            return model.state_types(base[1], attr)
        if kind == "inst":
            return model.member_types(base[1], attr, base)
        if kind == "obj":
            return model.mapped_member_types(base, attr)
        if kind == "class":
            return model.member_types(base[1], attr, None)
        return NOTHING

    # -- calls ----------------------------------------------------------------------------------

    def call(self, ctx: Ctx, func: Type, call: Expr) -> Types:
        kind = func[0]
        model = self.model
        if kind in ("ext", "func") and model.is_configured_factory(func[1]):
            return frozenset({t.SYNC_SESSION})
        if kind == "class":
            cls = model.classes.get(func[1])
            if cls is not None and model.orm.is_mapped(func[1]):
                return frozenset({("obj", func[1], frozenset(), "new")})
            return frozenset({("inst", func[1])})
        if kind in ("func", "bound"):
            return model.call_result(func[1])
        if kind == "ext":
            return self._external_call(ctx, func[1], call)
        if kind == "factory":
            return frozenset({("session", func[1])})
        if kind == "registry":
            return frozenset({("session", func[1], "scoped") if func[1] == t.SYNC else func})
        if kind == "method":
            return self._method_call(ctx, func[1], func[2], call)
        if kind == "adapted":
            return self.union(self.call(ctx, inner, call) for inner in func[1])
        return NOTHING

    def _external_call(self, ctx: Ctx, dotted: str, call: Expr) -> Types:
        if dotted in t.SELECTS:
            first = call[2][0] if call[2] else None
            entities = self.types(ctx, first) if first is not None else NOTHING
            classes = [e[1] for e in entities if e[0] == "class"]
            entity = classes[0] if len(classes) == 1 else None
            return frozenset({("select", entity, frozenset())})
        if dotted in t.SESSIONMAKERS:
            class_ = call_arg(call, 99, "class_")
            if class_ is not None and self.types(ctx, class_) & {
                ("ext", n) for n in t.ASYNC_SESSION_CLASSES
            }:
                return frozenset({t.ASYNC_FACTORY})
        if dotted in t.ADAPT:
            target = call_arg(call, 0, "obj")
            inner = self.types(ctx, target) if target is not None else NOTHING
            return frozenset({("adapted", inner)}) if inner else NOTHING
        result = t.CALL_RESULT.get(dotted)
        return frozenset({result}) if result is not None else NOTHING

    def _method_call(self, ctx: Ctx, receiver: Type, method: str, call: Expr) -> Types:
        kind = receiver[0]
        if kind in ("session", "registry"):
            return self._session_method(ctx, receiver, method, call)
        if kind == "engine" and method in ("connect", "begin"):
            return frozenset({("connection", receiver[1])})
        if kind == "factory" and method == "begin":
            return frozenset({("session", receiver[1])})
        if kind == "select":
            return frozenset({self._refine(ctx, receiver, method, call)})
        if kind == "query":
            if method in ("first", "one", "one_or_none", "get", "scalar"):
                return frozenset({("obj", receiver[1], receiver[2], receiver[3])})
            if method == "all":
                return frozenset({("list", ("obj", receiver[1], receiver[2], receiver[3]))})
            return frozenset({self._refine(ctx, receiver, method, call)})
        if kind in ("result", "scalars"):
            entity, loaded, origin = receiver[1], receiver[2], receiver[3]
            if method == "scalars":
                return frozenset({("scalars", entity, loaded, origin)})
            if method == "unique":
                return frozenset({receiver})
            one = ("obj", entity, loaded, origin)
            if method in ("scalar_one", "scalar_one_or_none", "scalar") or (
                kind == "scalars" and method in ("first", "one", "one_or_none")
            ):
                return frozenset({one}) if entity else NOTHING
            if kind == "scalars" and method == "all":
                return frozenset({("list", one)}) if entity else NOTHING
        return NOTHING

    def _refine(self, ctx: Ctx, statement: Type, method: str, call: Expr) -> Type:
        """``select(User).options(selectinload(User.items))``: remember what is loaded."""
        if method != "options":
            return statement
        loaded = set(statement[2])
        for arg in call[2]:
            loaded |= self.loaded_by_option(arg)
        return (*statement[:2], frozenset(loaded), *statement[3:])

    def loaded_by_option(self, option: Expr) -> set[str]:
        """``selectinload(User.items)``, ``joinedload(User.items).selectinload(Item.tags)``."""
        found: set[str] = set()
        stack = [option]
        while stack:
            expr = stack.pop()
            if expr[0] == "c":
                func = expr[1]
                name = func[1] if func[0] == "n" else func[2] if func[0] == "a" else None
                if name in t.LAZY_EAGER | {
                    "selectinload", "joinedload", "subqueryload", "immediateload",
                    "contains_eager", "defaultload",
                }:  # fmt: skip
                    for arg in expr[2]:
                        if arg[0] == "a":
                            found.add(arg[2])
                        elif arg[0] == "str":
                            found.add(arg[1])
                if func[0] == "a":
                    stack.append(func[1])
        return found

    def _session_method(self, ctx: Ctx, session: Type, method: str, call: Expr) -> Types:
        origin = session[1]
        first = call[2][0] if call[2] else None
        if method in ("execute", "scalars", "exec", "scalar"):
            statements = self.types(ctx, first) if first is not None else NOTHING
            selects = [s for s in statements if s[0] == "select"]
            if len(selects) != 1:
                return NOTHING
            entity, loaded = selects[0][1], selects[0][2]
            if method == "execute":
                return frozenset({("result", entity, loaded, origin)})
            if method == "scalar":
                return frozenset({("obj", entity, loaded, origin)}) if entity else NOTHING
            return frozenset({("scalars", entity, loaded, origin)})
        if method in ("get", "get_one", "query"):
            classes = self.types(ctx, first) if first is not None else NOTHING
            names = [c[1] for c in classes if c[0] == "class"]
            if len(names) != 1:
                return NOTHING
            loaded_names: set[str] = set()
            options = call_arg(call, 99, "options")
            if options is not None and options[0] == "list":
                for option in options[1]:
                    loaded_names |= self.loaded_by_option(option)
            if method == "query":
                return frozenset({("query", names[0], frozenset(loaded_names), origin)})
            return frozenset({("obj", names[0], frozenset(loaded_names), origin)})
        if method == "merge" and first is not None:
            return frozenset(
                ("obj", o[1], frozenset(), origin)
                for o in self.types(ctx, first)
                if o[0] in ("obj", "inst")
            )
        if method in ("begin", "begin_nested") and session[0] == "session":
            return frozenset({("transaction", origin)})
        return NOTHING

    # -- with / for -------------------------------------------------------------------------------

    def enter(self, value: Type) -> Types:
        kind = value[0]
        if kind in ("session", "connection"):
            return frozenset({value})
        if kind == "cm":
            return self.model.yield_types(value[1])
        if kind == "inst":
            enter = self.model.member_types(value[1], "__enter__", value) | self.model.member_types(
                value[1], "__aenter__", value
            )
            results = self.union(
                self.model.call_result(m[1]) for m in enter if m[0] in ("bound", "func")
            )
            return results
        return NOTHING

    def element(self, value: Type) -> Types:
        kind = value[0]
        if kind == "list":
            return frozenset({value[1]})
        if kind in ("scalars", "query") and value[1]:
            return frozenset({("obj", value[1], value[2], value[3])})
        if kind == "gen":
            return self.model.yield_types(value[1])
        return NOTHING

    # -- annotations ------------------------------------------------------------------------------

    def annotation(self, ctx: Ctx, expr: Expr, provided: bool = False) -> Types:
        """The type of a value annotated with ``expr``; ``provided``: a dependency's return
        annotation, where ``Iterator[Session]`` means the session it yields."""
        kind = expr[0]
        if kind == "union":
            return self.union(self.annotation(ctx, e, provided) for e in expr[1])
        if kind == "s":
            heads = self.types(ctx, expr[1])
            dotted = {h[1] for h in heads if h[0] == "ext"} | {
                h[1] for h in heads if h[0] == "builtin"
            }
            items = expr[2]
            if expr[1] == ("n", "list") or expr[1] == ("n", "List"):
                dotted.add("list")
            if dotted & t.ANNOTATED:
                return self.annotation(ctx, items[0], provided) or self.depends_types(
                    ctx, items[1:]
                )
            if dotted & t.OPTIONAL:
                return self.union(self.annotation(ctx, e, provided) for e in items)
            if dotted & t.MAPPED:
                return self.annotation(ctx, items[0], provided)
            if provided and dotted & t.GENERATORS:
                return self.annotation(ctx, items[0])
            if dotted & t.CONTAINERS and items:
                inner = self.annotation(ctx, items[0])
                return frozenset(("list", i) for i in inner) if len(inner) == 1 else NOTHING
            return NOTHING
        result: set[Type] = set()
        for found in self.types(ctx, expr):
            if found[0] == "annot":
                result |= self.annotation(self.model.module_ctx(found[1]), found[2], provided)
            elif found[0] == "class":
                if self.model.orm.is_mapped(found[1]):
                    result.add(("obj", found[1], frozenset(), "param"))
                else:
                    result.add(("inst", found[1]))
            elif found[0] == "ext" and found[1] in t.INSTANCE_OF:
                result.add(t.INSTANCE_OF[found[1]])
        return frozenset(result)

    def depends_types(self, ctx: Ctx, metadata: Iterable[Expr]) -> Types:
        """``Depends(get_db)`` among ``Annotated`` metadata or as a default: what it provides."""
        result: set[Type] = set()
        for item in metadata:
            dependency = self.depends_target(ctx, item)
            if dependency is not None:
                result |= self.provided(ctx, dependency)
        return frozenset(result)

    def depends_target(self, ctx: Ctx, expr: Expr) -> Expr | None:
        if expr[0] != "c":
            return None
        funcs = self.types(ctx, expr[1])
        if not (funcs and all(f[0] == "ext" and f[1] in t.DEPENDS for f in funcs)):
            return None
        return call_arg(expr, 0, "dependency")

    def provided(self, ctx: Ctx, dependency: Expr) -> Types:
        result: set[Type] = set()
        for target in self.types(ctx, dependency):
            if target[0] in ("func", "bound"):
                result |= self.model.provided_types(target[1])
            elif target[0] == "class":
                result |= self.call(ctx, target, ("c", dependency, (), ()))
        return frozenset(result)
