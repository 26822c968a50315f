"""What every step needs to edit one file: positions that match the model's, statements
inserted after a line, imports scheduled through libcst's codemod context."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

Key = tuple[int, int]  # (line, 1-based column), as the model records a call


class Edits:
    """One file's planned edits, applied in one pass of a fresh transformer."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.calls: dict[Key, Callable[[cst.Call], cst.BaseExpression]] = {}
        self.after_line: dict[int, list[cst.BaseStatement]] = {}
        self.after_def: dict[str, list[cst.BaseStatement]] = {}
        self.imports: list[tuple[str, str]] = []
        self.unused: list[tuple[str, str | None]] = []

    def call(self, line: int, col: int, change: Callable[[cst.Call], cst.BaseExpression]) -> None:
        self.calls[(line, col)] = change

    def insert_after(self, line: int, statements: Sequence[cst.BaseStatement]) -> None:
        """After the simple statement that spans ``line`` (in the innermost block)."""
        self.after_line.setdefault(line, []).extend(statements)

    def insert_after_function(self, name: str, statements: Sequence[cst.BaseStatement]) -> None:
        """After the module-level ``def name`` (or ``async def``), as a sibling, two blank
        lines apart as PEP 8 asks."""
        spaced = [
            s.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            if isinstance(s, cst.FunctionDef | cst.ClassDef)
            else s
            for s in statements
        ]
        self.after_def.setdefault(name, []).extend(spaced)

    def add_import(self, module: str, name: str) -> None:
        self.imports.append((module, name))

    def remove_import_if_unused(self, module: str, name: str | None = None) -> None:
        """An import the edit may have left unused; kept when anything still uses it."""
        self.unused.append((module, name))

    def __bool__(self) -> bool:
        return bool(self.calls or self.after_line or self.after_def or self.imports)

    def apply(self) -> str:
        if not self:
            return self.source
        module = cst.parse_module(self.source)
        spans = None if self.calls else _top_level_spans(self.source, self.after_line)
        if spans is not None:
            # Every insertion is after a top-level statement: spans from Python's own parser
            # place them, and libcst's position pass (2.4x the parse itself) is not needed.
            updated = module.visit(_ApplyBySpans(self, spans))
        else:
            wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # parsed here, never shared
            updated = wrapper.visit(_Apply(self))  # imports are added in the same pass
        if self.unused:
            context = CodemodContext()
            for from_module, maybe_name in dict.fromkeys(self.unused):
                RemoveImportsVisitor.remove_unused_import(context, from_module, maybe_name)
            updated = RemoveImportsVisitor(context).transform_module(updated)
        return updated.code


def _top_level_spans(source: str, lines: Iterable[int]) -> list[tuple[int, int]] | None:
    """(first, last) line of each top-level statement as libcst groups them (`a; b` is one),
    or None when an insertion targets a line inside a block."""
    spans: list[tuple[int, int]] = []
    simple_spans: list[bool] = []
    for statement in ast.parse(source).body:
        simple = not isinstance(statement, _COMPOUND)
        first = min([statement.lineno, *(d.lineno for d in _decorators(statement))])
        last = statement.end_lineno or statement.lineno
        if spans and simple and simple_spans[-1] and first == spans[-1][1]:
            spans[-1] = (spans[-1][0], last)  # joined by `;` on one line
        else:
            spans.append((first, last))
            simple_spans.append(simple)
    for line in lines:
        index = next((i for i, (a, b) in enumerate(spans) if a <= line <= b), None)
        if index is None or not simple_spans[index]:
            return None
    return spans


_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
)  # fmt: skip


def _decorators(statement: ast.stmt) -> list[ast.expr]:
    found = getattr(statement, "decorator_list", [])
    return found if isinstance(found, list) else []


class _Apply(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Edits, spans: list[tuple[int, int]] | None = None) -> None:
        super().__init__()
        self.spans = spans
        self.edits = edits
        self.inserted: set[int] = set()
        self.wanted: dict[str, list[str]] = {}
        for module, name in dict.fromkeys(edits.imports):
            self.wanted.setdefault(module, []).append(name)
        self.depth = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        """``from M import a`` gains the names wanted from M (top level, plain imports only)."""
        if self.depth or updated.relative or isinstance(updated.names, cst.ImportStar):
            return updated
        module = _dotted(updated.module) if updated.module is not None else None
        wanted = self.wanted.get(module or "")
        if not wanted:
            return updated
        present = {_alias_name(a) for a in updated.names}
        missing = [n for n in wanted if n not in present]
        self.wanted.pop(module or "")
        if not missing:
            return updated
        names = sorted(
            [*updated.names, *(cst.ImportAlias(cst.Name(n)) for n in missing)],
            key=lambda a: _alias_name(a) or "",
        )
        names = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in names]
        return updated.with_changes(names=names)

    def _range(self, node: cst.CSTNode) -> CodeRange:
        found = self.get_metadata(PositionProvider, node)
        assert isinstance(found, CodeRange)
        return found

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.edits.calls:
            return updated
        start = self._range(original).start
        change = self.edits.calls.get((start.line, start.column + 1))
        return change(updated) if change is not None else updated

    def _insert(
        self,
        originals: Sequence[cst.BaseStatement],
        updated: Sequence[cst.BaseStatement],
        top_level: bool = False,
    ) -> list[cst.BaseStatement]:
        result: list[cst.BaseStatement] = []
        for index, (original, statement) in enumerate(zip(originals, updated, strict=True)):
            result.append(statement)
            if not isinstance(original, cst.SimpleStatementLine):
                continue
            if self.spans is not None:
                if not top_level:
                    continue
                first, last = self.spans[index]
            else:
                span = self._range(original)
                first, last = span.start.line, span.end.line
            for line, statements in self.edits.after_line.items():
                if line not in self.inserted and first <= line <= last:
                    self.inserted.add(line)
                    result.extend(statements)
        return result

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.depth -= 1
        return updated.with_changes(body=self._insert(original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = []
        for statement in self._insert(original.body, updated.body, top_level=True):
            body.append(statement)
            if isinstance(statement, cst.FunctionDef):
                body.extend(self.edits.after_def.get(statement.name.value, []))
        return updated.with_changes(body=self._new_imports(body))

    def _new_imports(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Imports from modules the file does not import from yet: after its last import."""
        if not self.wanted:
            return body
        new = [
            cst.parse_statement(f"from {module} import {', '.join(sorted(names))}\n")
            for module, names in self.wanted.items()
        ]
        last = -1
        for index, statement in enumerate(body):
            if isinstance(statement, cst.SimpleStatementLine) and any(
                isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
            ):
                last = index
            elif last >= 0:
                break
        if last < 0 and body and _is_docstring(body[0]):
            last = 0
        return [*body[: last + 1], *new, *body[last + 1 :]]


def statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def rename_callee(name: str) -> Callable[[cst.Call], cst.BaseExpression]:
    """``scoped_session(...)`` or ``orm.scoped_session(...)`` -> ``name(...)``."""
    return lambda call: call.with_changes(func=cst.Name(name))


def drop_keyword(keyword: str) -> Callable[[cst.Call], cst.Call]:
    def change(call: cst.Call) -> cst.Call:
        args = list(call.args)
        index = next(
            (i for i, a in enumerate(args) if a.keyword and a.keyword.value == keyword), None
        )
        if index is None:
            return call
        dropped = args.pop(index)
        if index == len(args) and args:  # it was last: its comma (and line break) moves up
            args[-1] = args[-1].with_changes(comma=dropped.comma)
        return call.with_changes(args=args)

    return change


def rename_method(name: str) -> Callable[[cst.Call], cst.BaseExpression]:
    def change(call: cst.Call) -> cst.BaseExpression:
        assert isinstance(call.func, cst.Attribute)
        return call.with_changes(func=call.func.with_changes(attr=cst.Name(name)))

    return change


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _alias_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None:
        return None  # `import x as y` binds y: not the name asked for
    return _dotted(alias.name)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


class _ApplyBySpans(_Apply):
    """The same edits, placed by top-level statement spans: no position metadata."""

    METADATA_DEPENDENCIES = ()  # type: ignore[assignment]
