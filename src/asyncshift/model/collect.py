"""The one pass over one file: a frame per function, a fact per class, imports as values.

Nothing here decides what a name means; that needs every file and happens in ``repo``. The
pass uses Python's own parser: it is several times cheaper than a concrete syntax tree and
gives exact positions for free. libcst is used only where code is rewritten.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from asyncshift.model.exprs import UNKNOWN, Expr, annotation_expr, to_expr
from asyncshift.model.records import (
    MODULE_FRAME,
    AttrRead,
    CallFact,
    ClassFact,
    Cleanup,
    FileFacts,
    Frame,
    Override,
    Param,
    StateSet,
)

EAGER_HINTS = {
    "selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager",
    "awaitable_attrs", "defaultload",
}  # fmt: skip
RAISING_CLEANUP = {"commit", "flush"}
RELEASES = {"close", "remove"}
_Col = Callable[[ast.expr | ast.stmt], int]
_SUPPRESSION = re.compile(r"#\s*asyncshift:\s*ignore(?:\[([A-Z0-9,\s]+)\])?")


def suppressions(source: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    if "asyncshift" not in source:
        return found
    for number, line in enumerate(source.splitlines(), start=1):
        match = _SUPPRESSION.search(line)
        if match:
            codes = match.group(1)
            found[number] = {c.strip() for c in codes.split(",")} if codes else {"*"}
    return found


class _Collector(ast.NodeVisitor):
    def __init__(self, facts: FileFacts, lines: list[str]) -> None:
        self.facts = facts
        self.lines = lines
        module = Frame(MODULE_FRAME, MODULE_FRAME, 1, 1, False)
        facts.frames.append(module)
        self.frames: list[Frame] = [module]
        self.classes: list[ClassFact | None] = [None]  # the class whose body we are in, per level
        self.awaited: set[int] = set()
        self.async_with_items: set[int] = set()
        self.with_items: set[int] = set()
        self.deferred = 0

    # -- positions ----------------------------------------------------------------------------

    def col(self, node: ast.expr | ast.stmt) -> int:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        if line.isascii():
            return node.col_offset + 1
        return len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore")) + 1

    # -- binding --------------------------------------------------------------------------------

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def bind(self, name: str, value: Expr) -> None:
        cls = self.classes[-1]
        if cls is not None:
            cls.attrs.setdefault(name, []).append(value)
            return
        frame = self.frames[0] if name in self.frame.globals_declared else self.frame
        frame.locals.setdefault(name, []).append(value)

    def bind_target(self, target: ast.expr, value: Expr, value_node: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, ast.Tuple | ast.List):
            values = value_node.elts if isinstance(value_node, ast.Tuple | ast.List) else None
            for index, element in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self.bind_target(element, to_expr(values[index]), values[index])
                else:
                    self.bind_target(element, UNKNOWN, None)
        elif isinstance(target, ast.Attribute):
            self._attribute_target(target, value)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, UNKNOWN, None)
        elif (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Attribute)
            and target.value.attr == "dependency_overrides"
        ):
            self.frame.overrides.append(
                Override(target.lineno, to_expr(target.value.value), to_expr(target.slice), value)
            )

    def _attribute_target(self, target: ast.Attribute, value: Expr) -> None:
        base = target.value
        frame = self.frame
        if (
            isinstance(base, ast.Name)
            and frame.cls is not None
            and frame.params
            and base.id == frame.params[0].name
            and not _is_static(frame)
        ):
            frame.self_attrs.setdefault(target.attr, []).append(value)
        elif isinstance(base, ast.Attribute) and base.attr == "state":
            frame.state_sets.append(StateSet(to_expr(base.value), target.attr, value))

    # -- imports --------------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, ("imp", 0, alias.name, None))
            else:
                head = alias.name.split(".")[0]
                self.bind(head, ("imp", 0, head, None))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                self.facts.star_imports.append((node.level, module))
                continue
            self.bind(alias.asname or alias.name, ("imp", node.level, module, alias.name))

    # -- definitions ----------------------------------------------------------------------------

    def _qualname(self, name: str) -> str:
        cls = self.classes[-1]
        if cls is not None:
            return f"{cls.qualname}.{name}"
        if self.frame.qualname == MODULE_FRAME:
            return name
        return f"{self.frame.qualname}.<locals>.{name}"

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualname = self._qualname(node.name)
        cls = self.classes[-1]
        for decorator in node.decorator_list:
            self.visit(decorator)
        frame = Frame(
            qualname,
            node.name,
            node.lineno,
            self.col(node) + (6 if isinstance(node, ast.AsyncFunctionDef) else 0) + 4,
            isinstance(node, ast.AsyncFunctionDef),
            cls=cls.qualname if cls is not None else None,
            parent=None if cls is not None or len(self.frames) == 1 else self.frame.qualname,
            params=_params(node.args),
            decorators=tuple(to_expr(d) for d in node.decorator_list),
            returns_annotation=annotation_expr(node.returns),
        )
        if cls is not None:
            cls.methods[node.name] = qualname
        else:
            self.bind(node.name, ("def", qualname))
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        self.facts.frames.append(frame)
        self.frames.append(frame)
        self.classes.append(None)
        for statement in node.body:
            self.visit(statement)
        if frame.yields:
            frame.cleanups = _cleanups(node, self.col)
        self.classes.pop()
        self.frames.pop()
        if frame.mentions_eager and len(self.frames) > 1:
            self.frame.mentions_eager = True  # a nested helper's options serve its parent too

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = self._qualname(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        fact = ClassFact(
            qualname,
            node.name,
            node.lineno,
            self.col(node),
            bases=tuple(to_expr(b) for b in node.bases),
            keywords=tuple((k.arg, to_expr(k.value)) for k in node.keywords if k.arg),
            decorators=tuple(to_expr(d) for d in node.decorator_list),
        )
        self.bind(node.name, ("def", qualname))
        self.facts.classes.append(fact)
        self.classes.append(fact)
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                annotation = annotation_expr(statement.annotation)
                if annotation is not None:
                    fact.annotations[statement.target.id] = annotation
            self.visit(statement)
        self.classes.pop()

    # -- statements -----------------------------------------------------------------------------

    def visit_Global(self, node: ast.Global) -> None:
        self.frame.globals_declared.update(node.names)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        value = to_expr(node.value)
        for target in node.targets:
            self.bind_target(target, value, node.value)
            if not isinstance(target, ast.Name):
                self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        annotation = annotation_expr(node.annotation)
        if isinstance(node.target, ast.Name):
            if self.classes[-1] is None and annotation is not None:
                self.bind(node.target.id, ("ann", annotation))
            if node.value is not None:
                self.bind(node.target.id, to_expr(node.value))
        elif node.value is not None:
            self.bind_target(node.target, to_expr(node.value), node.value)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        is_async = isinstance(node, ast.AsyncWith)
        for item in node.items:
            if is_async:
                self.async_with_items.add(id(item.context_expr))
            else:
                self.with_items.add(id(item.context_expr))
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind_target(
                    item.optional_vars, ("enter", to_expr(item.context_expr), is_async), None
                )
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.bind_target(node.target, ("iter", to_expr(node.iter)), None)
        for statement in (*node.body, *node.orelse):
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.frame.returns.append(to_expr(node.value))

    def visit_Yield(self, node: ast.Yield) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.frame.yields.append(to_expr(node.value) if node.value is not None else ("none",))

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self.visit(node.value)
        self.frame.yields.append(UNKNOWN)

    # -- expressions ----------------------------------------------------------------------------

    def visit_Await(self, node: ast.Await) -> None:
        self.awaited.add(id(node.value))
        self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.deferred += 1
        self.visit(node.body)
        self.deferred -= 1

    def visit_Call(self, node: ast.Call) -> None:
        self.frame.calls.append(
            CallFact(
                node.lineno,
                self.col(node),
                to_expr(node),
                awaited=id(node) in self.awaited,
                deferred=self.deferred > 0,
                async_with=id(node) in self.async_with_items,
                with_item=id(node) in self.with_items,
            )
        )
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in EAGER_HINTS:
            self.frame.mentions_eager = True

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in EAGER_HINTS:
            self.frame.mentions_eager = True
        frame = self.frame
        if (
            isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and self.classes[-1] is None
        ):
            frame.attr_reads.append(AttrRead(node.lineno, self.col(node), node.value.id, node.attr))
        self.generic_visit(node)


def _is_static(frame: Frame) -> bool:
    return any(d in (("n", "staticmethod"),) for d in frame.decorators)


def _params(arguments: ast.arguments) -> tuple[Param, ...]:
    params: list[Param] = []
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    for index, arg in enumerate(positional):
        kind = "posonly" if index < len(arguments.posonlyargs) else "pos"
        default = defaults[index]
        params.append(
            Param(
                arg.arg,
                kind,
                annotation_expr(arg.annotation),
                to_expr(default) if default is not None else None,
            )
        )
    if arguments.vararg is not None:
        params.append(Param(arguments.vararg.arg, "var", None, None))
    for arg, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        params.append(
            Param(
                arg.arg,
                "kwonly",
                annotation_expr(arg.annotation),
                to_expr(kw_default) if kw_default is not None else None,
            )
        )
    if arguments.kwarg is not None:
        params.append(Param(arguments.kwarg.arg, "varkw", None, None))
    return tuple(params)


# -- F3: cleanup that can raise before the session is released ---------------------------------


def _method_call(statement: ast.stmt) -> tuple[ast.Call, str, ast.expr] | None:
    if (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
    ):
        func = statement.value.func
        return statement.value, func.attr, func.value
    return None


def _contains_yield(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(node))


def _scan_block(body: list[ast.stmt], after_yield: bool, col: _Col) -> Cleanup | None:
    raising: tuple[ast.Call, str, ast.expr] | None = None
    for statement in body:
        if not after_yield:
            after_yield = _contains_yield(statement) and not isinstance(statement, ast.Try)
            continue
        found = _method_call(statement)
        if found is None:
            continue
        _, method, receiver = found
        if method in RAISING_CLEANUP and raising is None:
            raising = found
        elif method in RELEASES and raising is not None:
            first, first_method, first_receiver = raising
            return Cleanup(
                first.lineno,
                col(first),
                to_expr(first_receiver),
                first_method,
                method,
                to_expr(receiver),
            )
    return None


def _cleanups(node: ast.FunctionDef | ast.AsyncFunctionDef, col: _Col) -> list[Cleanup]:
    found: list[Cleanup | None] = []
    blocks: list[list[ast.stmt]] = [node.body]
    for inner in ast.walk(node):
        if inner is node:
            continue
        for name in ("body", "orelse", "handlers"):
            block = getattr(inner, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                blocks.append(block)
        if isinstance(inner, ast.Try) and inner.finalbody:
            found.append(_scan_block(inner.finalbody, True, col))
    found += [_scan_block(block, False, col) for block in blocks]
    return [c for c in dict.fromkeys(found) if c is not None]


def collect_facts(path: str, source: str) -> FileFacts:
    """Parse ``source`` once and collect its facts; raises ``SyntaxError``."""
    tree = ast.parse(source, filename=path)
    facts = FileFacts(path=path, suppressions=suppressions(source))
    collector = _Collector(facts, source.splitlines())
    for statement in tree.body:
        collector.visit(statement)
    return facts
