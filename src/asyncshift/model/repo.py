"""The repository model: every file's facts merged, names resolved, values typed, flow followed.

``RepoModel`` answers what rules, ``plan`` and the ladder's steps ask: which function a call
reaches, what type a value has, which parameters receive a sync session (from their callers,
transitively), what each function does with sessions, and which code serves requests.
Everything it cannot resolve it leaves unknown; nothing is concluded from the unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr
from asyncshift.model.infer import Ctx, Typer
from asyncshift.model.modules import ModuleTable
from asyncshift.model.orm import Orm
from asyncshift.model.records import MODULE_FRAME, ClassFact, FileFacts, Frame, Param
from asyncshift.model.routes import Routes
from asyncshift.model.serving import Serving
from asyncshift.model.sessions import Sessions
from asyncshift.model.types import NOTHING, Type, Types

FLOW_ROUNDS = 6  # parameter types settle in a few rounds; a longer chain is left unknown


class RepoModel:
    def __init__(self, files: Iterable[FileFacts], session_factories: Iterable[str] = ()) -> None:
        self.files: dict[str, FileFacts] = {f.path: f for f in files}
        self.modules = ModuleTable(list(self.files))
        self.configured_factories = set(session_factories)
        self.frames: dict[str, tuple[str, Frame]] = {}
        self.classes: dict[str, tuple[str, ClassFact]] = {}
        self._frame_by_qualname: dict[tuple[str, str], Frame] = {}
        for path, facts in self.files.items():
            module = self.modules.name_of[path]
            for frame in facts.frames:
                self.frames[f"{module}.{frame.qualname}"] = (path, frame)
                self._frame_by_qualname[(path, frame.qualname)] = frame
            for cls in facts.classes:
                self.classes[f"{module}.{cls.qualname}"] = (path, cls)
        self.memo: dict[str, object] = {}  # answers a step computes once per repository
        self.typer = Typer(self)
        self.orm = Orm(self)
        self.incoming: dict[tuple[str, str], Types] = {}
        self._propagate()
        self.sessions = Sessions(self)
        self.routes = Routes(self)
        self.serving = Serving(self)

    # -- where things are -----------------------------------------------------------------------

    def module_of(self, path: str) -> str:
        return self.modules.name_of[path]

    def fq(self, path: str, qualname: str) -> str:
        return f"{self.module_of(path)}.{qualname}"

    def module_ctx(self, path: str) -> Ctx:
        return Ctx(path, self.files[path].module_frame)

    def frame_at(self, path: str, qualname: str) -> Frame | None:
        return self._frame_by_qualname.get((path, qualname))

    def enclosing(self, path: str, frame: Frame) -> Frame | None:
        if frame.qualname == MODULE_FRAME:
            return None
        if frame.parent is not None:
            parent = self._frame_by_qualname.get((path, frame.parent))
            if parent is not None:
                return parent
        return self.files[path].module_frame

    def all_frames(self) -> Iterator[tuple[str, Frame]]:
        for path, facts in self.files.items():
            for frame in facts.frames:
                yield path, frame

    def frame_ctx(self, fq: str) -> Ctx | None:
        found = self.frames.get(fq)
        return Ctx(*found) if found is not None else None

    def display(self, fq: str) -> str:
        return fq.replace(f".{MODULE_FRAME}", "")

    # -- names and imports ------------------------------------------------------------------------

    def global_types(self, path: str, name: str) -> Types:
        facts = self.files[path]
        if name in facts.module_frame.locals:
            return self.typer.types(self.module_ctx(path), ("n", name))
        return NOTHING

    def is_configured_factory(self, dotted: str) -> bool:
        """``session-factories`` in [tool.asyncshift]: callables the user says make sync
        sessions, named by their full or their last dotted parts."""
        return any(
            dotted == name or dotted.endswith(f".{name}") for name in self.configured_factories
        )

    def import_types(self, path: str, level: int, module: str, name: str | None) -> Types:
        if level:
            target = self.modules.find_relative(path, level, module)
        else:
            target = self.modules.find(module)
        dotted = self.modules.module_name(path, level, module)
        if name is None:
            if target is not None:
                return frozenset({("module", self.modules.name_of[target])})
            return frozenset({("ext", dotted)}) if not level else NOTHING
        if target is None:
            if level:
                return self._submodule(path, level, f"{module}.{name}" if module else name)
            return frozenset({("ext", f"{dotted}.{name}")})
        found = self.global_types(target, name)
        if found:
            return found
        return self._module_named(f"{self.modules.name_of[target]}.{name}")

    def _submodule(self, path: str, level: int, module: str) -> Types:
        target = self.modules.find_relative(path, level, module)
        return frozenset({("module", self.modules.name_of[target])}) if target else NOTHING

    def _module_named(self, dotted: str) -> Types:
        target = self.modules.find(dotted)
        return frozenset({("module", self.modules.name_of[target])}) if target else NOTHING

    def module_attribute(self, module: str, attr: str) -> Types:
        target = self.modules.find(module)
        if target is None:
            return frozenset({("ext", f"{module}.{attr}")})
        return self.global_types(target, attr) or self._module_named(f"{module}.{attr}")

    def definition_types(self, path: str, qualname: str) -> Types:
        fq = self.fq(path, qualname)
        return frozenset({("class", fq) if fq in self.classes else ("func", fq)})

    # -- classes --------------------------------------------------------------------------------

    def bases(self, class_fq: str) -> list[Type]:
        path, cls = self.classes[class_fq]
        ctx = self.module_ctx(path)
        found: list[Type] = []
        for base in cls.bases:
            found += sorted(self.typer.types(ctx, base))
        return found

    def mro(self, class_fq: str) -> list[str]:
        order: list[str] = []
        stack = [class_fq]
        while stack and len(order) < 30:
            current = stack.pop(0)
            if current in order or current not in self.classes:
                continue
            order.append(current)
            stack += [b[1] for b in self.bases(current) if b[0] == "class"]
        return order

    def member_types(self, class_fq: str, attr: str, self_type: Type | None) -> Types:
        for owner in self.mro(class_fq):
            path, cls = self.classes[owner]
            found = self._own_member(path, cls, owner, attr, self_type)
            if found is not None:
                return found
        return NOTHING

    def _own_member(
        self, path: str, cls: ClassFact, owner: str, attr: str, self_type: Type | None
    ) -> Types | None:
        module = self.module_of(path)
        if attr in cls.methods:
            fq = f"{module}.{cls.methods[attr]}"
            _, frame = self.frames[fq]
            decorators = self.decorator_names(path, frame)
            if decorators & t.PROPERTIES or any(
                d[0] == "a" and d[2] == "getter" for d in frame.decorators
            ):
                return self.call_result(fq)
            if "staticmethod" in decorators:
                return frozenset({("func", fq)})
            if "classmethod" in decorators:
                return frozenset({("bound", fq, ("class", owner))})
            return frozenset({("bound", fq, self_type)}) if self_type else frozenset({("func", fq)})
        ctx = self.module_ctx(path)
        found: set[Type] = set()
        known = False
        if attr in cls.annotations:
            known = True
            found |= self.typer.annotation(ctx, cls.annotations[attr])
        if attr in cls.attrs:
            known = True
            for value in cls.attrs[attr]:
                found |= self.typer.types(ctx, value)
        for method in cls.methods.values():
            _, frame = self.frames[f"{module}.{method}"]
            if attr in frame.self_attrs:
                known = True
                method_ctx = Ctx(path, frame)
                for value in frame.self_attrs[attr]:
                    found |= self.typer.types(method_ctx, value)
        return frozenset(found) if known else None

    def decorator_names(self, path: str, frame: Frame) -> set[str]:
        names: set[str] = set()
        ctx = self.module_ctx(path)
        for decorator in frame.decorators:
            if decorator[0] == "n" and decorator[1] in ("staticmethod", "classmethod", "property"):
                names.add(decorator[1])
                continue
            target = decorator[1] if decorator[0] == "c" else decorator
            names |= {d[1] for d in self.typer.types(ctx, target) if d[0] == "ext"}
        return names

    def mapped_member_types(self, obj: Type, attr: str) -> Types:
        relationship = self.orm.relationship(obj[1], attr)
        if relationship is not None:
            if relationship.target is None:
                return NOTHING
            target: Type = ("obj", relationship.target, frozenset(), obj[3])
            return frozenset({("list", target) if relationship.collection else target})
        return self.member_types(obj[1], attr, obj)

    # -- functions ------------------------------------------------------------------------------

    def is_context_manager(self, fq: str) -> bool:
        path, frame = self.frames[fq]
        return bool(self.decorator_names(path, frame) & t.CONTEXT_MANAGERS)

    def call_result(self, fq: str) -> Types:
        found = self.frames.get(fq)
        if found is None:
            if fq in self.classes:
                return frozenset({("inst", fq)})
            return NOTHING
        path, frame = found
        if self.is_context_manager(fq):
            return frozenset({("cm", fq)})
        if frame.yields:
            return frozenset({("gen", fq)})
        module_ctx = self.module_ctx(path)
        if frame.returns_annotation is not None:
            annotated = self.typer.annotation(module_ctx, frame.returns_annotation)
            if annotated:
                return annotated
        ctx = Ctx(path, frame)
        return self.typer.union(self.typer.types(ctx, r) for r in frame.returns)

    def yield_types(self, fq: str) -> Types:
        found = self.frames.get(fq)
        if found is None:
            return NOTHING
        path, frame = found
        if frame.returns_annotation is not None:
            annotated = self.typer.annotation(
                self.module_ctx(path), frame.returns_annotation, provided=True
            )
            if annotated:
                return annotated
        ctx = Ctx(path, frame)
        return self.typer.union(self.typer.types(ctx, y) for y in frame.yields)

    def provided_types(self, fq: str) -> Types:
        """What ``Depends(fq)`` hands to the endpoint: the yielded value of a generator."""
        found = self.frames.get(fq)
        if found is None:
            return self.call_result(fq)
        _, frame = found
        if frame.yields:
            return self.yield_types(fq)
        return frozenset(r for r in self.call_result(fq) if r[0] not in ("cm", "gen"))

    def param_types(self, ctx: Ctx, name: str) -> Types:
        frame = ctx.frame
        index, param = next((i, p) for i, p in enumerate(frame.params) if p.name == name)
        module_ctx = self.module_ctx(ctx.path)
        if frame.cls is not None and index == 0 and param.kind in ("pos", "posonly"):
            decorators = self.decorator_names(ctx.path, frame)
            cls_fq = self.fq(ctx.path, frame.cls)
            if "classmethod" in decorators:
                return frozenset({("class", cls_fq)})
            if "staticmethod" not in decorators:
                return frozenset({("inst", cls_fq)})
        if param.annotation is not None:
            annotated = self.typer.annotation(module_ctx, param.annotation)
            if annotated:
                return annotated
        if param.default is not None:
            target = self.typer.depends_target(module_ctx, param.default)
            if target is not None:
                return self.typer.provided(module_ctx, target)
        return self.incoming.get((self.fq(ctx.path, frame.qualname), name), NOTHING)

    # -- interprocedural flow -------------------------------------------------------------------

    def callee(self, target: Type) -> tuple[str, int] | None:
        """A call target in the repository: (function fq, how many leading params are bound)."""
        if target[0] == "func" and target[1] in self.frames:
            return target[1], 0
        if target[0] == "bound" and target[1] in self.frames:
            return target[1], 1
        if target[0] == "class" and target[1] in self.classes:
            init = self.member_types(target[1], "__init__", ("inst", target[1]))
            for found in init:
                if found[0] == "bound" and found[1] in self.frames:
                    return found[1], 1
        return None

    def bind_arguments(self, fq: str, skip: int, call: Expr) -> list[tuple[Param, Expr]]:
        _, frame = self.frames[fq]
        params = frame.params[skip:]
        bound: list[tuple[Param, Expr]] = []
        positional = [p for p in params if p.kind in ("posonly", "pos")]
        for index, arg in enumerate(call[2]):
            if arg == ("*",) or index >= len(positional):
                break
            bound.append((positional[index], arg))
        by_name = {p.name: p for p in params if p.kind in ("pos", "kwonly")}
        for keyword, arg in call[3]:
            if keyword in by_name:
                bound.append((by_name[keyword], arg))
        return bound

    def _propagate(self) -> None:
        for _ in range(FLOW_ROUNDS):
            changed = False
            self.typer.reset()
            for path, frame in self.all_frames():
                if not frame.calls:
                    continue
                ctx = Ctx(path, frame)
                for call in frame.calls:
                    for target in self.typer.types(ctx, call.expr[1]):
                        resolved = self.callee(target)
                        if resolved is None:
                            continue
                        fq, skip = resolved
                        for param, arg in self.bind_arguments(fq, skip, call.expr):
                            if param.annotation is not None or param.default is not None:
                                continue  # typed by its own declaration
                            arg_types = self.typer.types(ctx, arg)
                            flowing = frozenset(
                                a for a in arg_types if a[0] not in ("method", "ext")
                            )
                            key = (fq, param.name)
                            before = self.incoming.get(key, NOTHING)
                            if not flowing <= before:
                                self.incoming[key] = before | flowing
                                changed = True
            if not changed:
                break
        self.typer.reset()

    # -- request state --------------------------------------------------------------------------

    @cached_property
    def _state_sets(self) -> list[tuple[Ctx, str, Expr, Expr]]:
        found = []
        for path, frame in self.all_frames():
            for state in frame.state_sets:
                found.append((Ctx(path, frame), state.attr, state.base, state.value))
        return found

    def state_types(self, owner: str, attr: str) -> Types:
        """``request.state.db``: whatever the repository's code stores there."""
        wanted = t.REQUEST if owner == "request" else t.APP
        result: set[Type] = set()
        for ctx, name, base, value in self._state_sets:
            if name == attr and wanted in self.typer.types(ctx, base):
                result |= self.typer.types(ctx, value)
        return frozenset(result)

    # -- what a value is ------------------------------------------------------------------------

    def types(self, path: str, frame: Frame, expr: Expr) -> Types:
        return self.typer.types(Ctx(path, frame), expr)

    def targets(self, path: str, frame: Frame, func: Expr) -> list[str]:
        """The repository functions a call's ``func`` reaches (resolved only)."""
        found = []
        for target in self.typer.types(Ctx(path, frame), func):
            resolved = self.callee(target)  # an adapt()ed target runs through run_sync: not here
            if resolved is not None:
                found.append(resolved[0])
        return sorted(set(found))

    def external_names(self, path: str, frame: Frame, func: Expr) -> set[str]:
        return {f[1] for f in self.typer.types(Ctx(path, frame), func) if f[0] == "ext"}
