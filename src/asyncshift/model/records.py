"""What the per-file pass records: compact, picklable, free of syntax-tree nodes.

One ``Frame`` per function (and one for the module body), one ``ClassFact`` per class. Values
are ``Expr`` tuples (see ``exprs``) that the repository model types after the merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncshift.model.exprs import Expr

MODULE_FRAME = "<module>"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "posonly" | "pos" | "kwonly" | "var" | "varkw"
    annotation: Expr | None
    default: Expr | None


@dataclass(frozen=True)
class CallFact:
    line: int
    col: int
    expr: Expr  # ("c", func, args, kwargs)
    awaited: bool  # `await f(...)`: async by construction
    deferred: bool  # inside a lambda or handed to a thread: does not run here
    async_with: bool  # an `async with` item
    with_item: bool = False  # a `with` item (sync)


@dataclass(frozen=True)
class AttrRead:
    line: int
    col: int
    var: str
    attr: str


@dataclass(frozen=True)
class StateSet:
    """``request.state.db = value``: a middleware handing a session to the request."""

    base: Expr
    attr: str
    value: Expr


@dataclass(frozen=True)
class Override:
    """``app.dependency_overrides[get_db] = override_get_db`` (tests swapping a dependency)."""

    line: int
    app: Expr
    dependency: Expr
    replacement: Expr


@dataclass(frozen=True)
class Cleanup:
    """After a generator's ``yield``: ``receiver.raising()`` runs before ``receiver.release()``."""

    line: int
    col: int
    receiver: Expr
    raising: str
    release: str
    release_receiver: Expr


@dataclass
class Frame:
    qualname: str  # "get_user", "UserRepository.get", "outer.<locals>.inner", MODULE_FRAME
    name: str
    line: int
    col: int
    is_async: bool
    cls: str | None = None  # the enclosing class's qualname, for methods
    parent: str | None = None  # the enclosing function's qualname, for nested functions
    params: tuple[Param, ...] = ()
    decorators: tuple[Expr, ...] = ()
    returns_annotation: Expr | None = None
    # Flow-insensitive: every value a local name is bound to, in any order.
    locals: dict[str, list[Expr]] = field(default_factory=dict)
    calls: list[CallFact] = field(default_factory=list)
    attr_reads: list[AttrRead] = field(default_factory=list)
    returns: list[Expr] = field(default_factory=list)
    yields: list[Expr] = field(default_factory=list)
    self_attrs: dict[str, list[Expr]] = field(default_factory=dict)  # self.x = value
    state_sets: list[StateSet] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    cleanups: list[Cleanup] = field(default_factory=list)
    globals_declared: set[str] = field(default_factory=set)
    mentions_eager: bool = False  # selectinload(...), joinedload(...), awaitable_attrs


@dataclass
class ClassFact:
    qualname: str
    name: str
    line: int
    col: int
    bases: tuple[Expr, ...] = ()
    keywords: tuple[tuple[str, Expr], ...] = ()  # class X(SQLModel, table=True)
    decorators: tuple[Expr, ...] = ()
    attrs: dict[str, list[Expr]] = field(default_factory=dict)  # class-body assignments
    annotations: dict[str, Expr] = field(default_factory=dict)  # class-body annotations
    methods: dict[str, str] = field(default_factory=dict)  # name -> frame qualname


@dataclass
class FileFacts:
    path: str
    frames: list[Frame] = field(default_factory=list)  # frames[0] is the module body
    classes: list[ClassFact] = field(default_factory=list)
    star_imports: list[tuple[int, str]] = field(default_factory=list)  # (level, module)
    suppressions: dict[int, set[str]] = field(default_factory=dict)  # line -> codes; "*": all

    @property
    def module_frame(self) -> Frame:
        return self.frames[0]
