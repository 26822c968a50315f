"""Mapped classes and their relationships, as SQLAlchemy itself would resolve them.

A class is mapped when it descends from a declarative base (``DeclarativeBase``, a
``declarative_base()`` result, ``SQLModel``) and has a table (``__tablename__``, ``__table__``,
SQLModel's ``table=True``). Relationship targets given as strings are looked up by class name
among the mapped classes, as SQLAlchemy's registry does; two classes of that name leave it unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, call_arg

if TYPE_CHECKING:
    from asyncshift.model.repo import RepoModel

COLLECTIONS = {"list", "List", "set", "Set", "typing.List", "typing.Set", "WriteOnlyMapped",
               "DynamicMapped", "Sequence"}  # fmt: skip


@dataclass(frozen=True)
class Relationship:
    owner: str
    name: str
    target: str | None  # qualified class name, None when it cannot be told
    collection: bool
    lazy_loads: bool  # the default lazy="select": loaded on first access, with I/O


class Orm:
    def __init__(self, model: RepoModel) -> None:
        self.model = model
        self._bases: dict[str, bool] = {}
        self._mapped: dict[str, bool] = {}
        self._relationships: dict[str, dict[str, Relationship]] | None = None

    def is_declarative(self, class_fq: str) -> bool:
        """Descends from a declarative base (the base itself included)."""
        if class_fq in self._bases:
            return self._bases[class_fq]
        self._bases[class_fq] = False  # cycles
        result = False
        for base in self.model.bases(class_fq):
            if base == t.DECLARATIVE_BASE or (
                base[0] == "ext" and base[1] in t.DECLARATIVE_CLASSES
            ):
                result = True
            elif base[0] == "class" and base[1] in self.model.classes:
                result = result or self.is_declarative(base[1])
        self._bases[class_fq] = result
        return result

    def is_mapped(self, class_fq: str) -> bool:
        if class_fq in self._mapped:
            return self._mapped[class_fq]
        self._mapped[class_fq] = False
        result = False
        if class_fq in self.model.classes and self.is_declarative(class_fq):
            _, cls = self.model.classes[class_fq]
            if "__abstract__" not in cls.attrs:
                result = self._has_table(class_fq)
        self._mapped[class_fq] = result
        return result

    def _has_table(self, class_fq: str) -> bool:
        _, cls = self.model.classes[class_fq]
        if "__tablename__" in cls.attrs or "__table__" in cls.attrs:
            return True
        if any(k == "table" and v == ("n", "True") for k, v in cls.keywords):
            return True
        return any(
            b[0] == "class" and b[1] in self.model.classes and self._has_table(b[1])
            for b in self.model.bases(class_fq)
        )

    # -- relationships ----------------------------------------------------------------------------

    def relationship(self, class_fq: str, name: str) -> Relationship | None:
        table = self._all()
        for owner in self.model.mro(class_fq):
            found = table.get(owner, {}).get(name)
            if found is not None:
                return found
        return None

    def _all(self) -> dict[str, dict[str, Relationship]]:
        if self._relationships is not None:
            return self._relationships
        table: dict[str, dict[str, Relationship]] = {}
        self._relationships = table
        by_name: dict[str, list[str]] = {}
        declarative = [fq for fq in self.model.classes if self.is_declarative(fq)]
        for fq in declarative:
            by_name.setdefault(self.model.classes[fq][1].name, []).append(fq)
        for fq in declarative:
            path, cls = self.model.classes[fq]
            ctx = self.model.module_ctx(path)
            for attr, values in cls.attrs.items():
                for value in values:
                    if value[0] != "c":
                        continue
                    funcs = self.model.typer.types(ctx, value[1])
                    if not (funcs and all(f[0] == "ext" and f[1] in t.RELATIONSHIP for f in funcs)):
                        continue
                    target_name, collection = _target(value, cls.annotations.get(attr))
                    target = _lookup(target_name, by_name)
                    uselist = call_arg(value, 99, "uselist")
                    if uselist is not None:
                        collection = uselist == ("n", "True")
                    lazy = call_arg(value, 99, "lazy")
                    lazy_value = lazy[1] if lazy is not None and lazy[0] == "str" else None
                    lazy_loads = lazy is None or lazy_value == "select" or lazy == ("n", "True")
                    table.setdefault(fq, {})[attr] = Relationship(
                        fq, attr, target, collection, lazy_loads
                    )
                    backref = call_arg(value, 99, "backref")
                    if backref is not None and target is not None:
                        name = backref[1] if backref[0] == "str" else _backref_name(backref)
                        if name:
                            table.setdefault(target, {}).setdefault(
                                name, Relationship(target, name, fq, True, True)
                            )
        return table


def _backref_name(expr: Expr) -> str | None:
    if expr[0] == "c" and expr[2] and expr[2][0][0] == "str":
        return str(expr[2][0][1])
    return None


def _innermost(annotation: Expr, collection: bool = False) -> tuple[str | None, bool]:
    kind = annotation[0]
    if kind == "s":
        head = annotation[1]
        head_name = head[1] if head[0] == "n" else head[2] if head[0] == "a" else ""
        is_collection = collection or head_name in COLLECTIONS
        if head_name in ("Optional", "Mapped", "Union") or is_collection:
            for item in annotation[2]:
                if item != ("none",) and item != ("n", "None"):
                    return _innermost(item, is_collection)
        return None, collection
    if kind == "union":
        for item in annotation[1]:
            if item != ("none",) and item != ("n", "None"):
                return _innermost(item, collection)
    if kind == "n":
        return str(annotation[1]), collection
    if kind == "a":
        return str(annotation[2]), collection
    return None, collection


def _target(call: Expr, annotation: Expr | None) -> tuple[str | None, bool]:
    collection = False
    name: str | None = None
    if annotation is not None:
        name, collection = _innermost(annotation)
    argument = call_arg(call, 0, "argument")
    if argument is not None:
        if argument[0] == "str":
            name = str(argument[1]).split(".")[-1]
        elif argument[0] == "n":
            name = str(argument[1])
    return name, collection


def _lookup(name: str | None, by_name: dict[str, list[str]]) -> str | None:
    if name is None:
        return None
    found = by_name.get(name, [])
    return found[0] if len(found) == 1 else None
