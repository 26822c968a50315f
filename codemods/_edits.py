"""What every step needs to edit one file: positions that match the model's, statements
inserted after a line, imports scheduled through libcst's codemod context."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
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
        wrapper = MetadataWrapper(module)
        updated = wrapper.visit(_Apply(self))
        if self.unused:
            context = CodemodContext()
            for from_module, maybe_name in dict.fromkeys(self.unused):
                RemoveImportsVisitor.remove_unused_import(context, from_module, maybe_name)
            updated = RemoveImportsVisitor(context).transform_module(updated)
        if self.imports:
            context = CodemodContext()
            for from_module, name in dict.fromkeys(self.imports):
                AddImportsVisitor.add_needed_import(context, from_module, name)
            updated = AddImportsVisitor(context).transform_module(updated)
        return updated.code


class _Apply(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Edits) -> None:
        super().__init__()
        self.edits = edits
        self.inserted: set[int] = set()

    def _range(self, node: cst.CSTNode) -> CodeRange:
        found = self.get_metadata(PositionProvider, node)
        assert isinstance(found, CodeRange)
        return found

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        start = self._range(original).start
        change = self.edits.calls.get((start.line, start.column + 1))
        return change(updated) if change is not None else updated

    def _insert(
        self, originals: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        result: list[cst.BaseStatement] = []
        for original, statement in zip(originals, updated, strict=True):
            result.append(statement)
            if not isinstance(original, cst.SimpleStatementLine):
                continue
            span = self._range(original)
            for line, statements in self.edits.after_line.items():
                if line not in self.inserted and span.start.line <= line <= span.end.line:
                    self.inserted.add(line)
                    result.extend(statements)
        return result

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated.with_changes(body=self._insert(original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = []
        for statement in self._insert(original.body, updated.body):
            body.append(statement)
            if isinstance(statement, cst.FunctionDef):
                body.extend(self.edits.after_def.get(statement.name.value, []))
        return updated.with_changes(body=body)


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
