"""What the model records about a file: compact, picklable, free of syntax-tree nodes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Place:
    """Filled in after the pass, and only if the file has anything to report: positions cost
    a second pass over the whole file."""

    line: int
    col: int


@dataclass(frozen=True)
class ScopedRegistryFact:
    name: str
    place: Place
    thread_local: bool


@dataclass(frozen=True)
class EngineFact:
    place: Place
    pool_size: int | None  # None: not given literally
    max_overflow: int | None
    pool_timeout: float | None
    pool_timeout_given: bool  # a literal pool_timeout (None included) was passed


@dataclass(frozen=True)
class SessionCall:
    """An un-awaited session method call inside ``async def``.

    ``receiver`` says why the receiver may be a sync session: ``"sync"`` when the file alone
    proves it (an annotation, ``Session(engine)``), else the name of the factory or registry it
    came from, settled against the repository's known sync factories.
    """

    place: Place
    function: str
    method: str
    receiver: str
    factory: str | None


@dataclass(frozen=True)
class Hazard:
    """A finding the file alone settles: code, place, and the words for it."""

    code: str
    place: Place
    message: str


@dataclass(frozen=True)
class EndpointFact:
    name: str
    place: Place
    route: str  # "GET /items/{id}"
    is_async: bool
    session_params: tuple[str, ...]  # parameters annotated with a sync Session
    annotation_names: tuple[str, ...]  # bare-name annotations, e.g. a `SessionDep` alias
    dependencies: tuple[str, ...]  # names passed to Depends(...)
    blocking: tuple[str, ...]  # non-database blocking calls in its body


@dataclass(frozen=True)
class DependencyFact:
    """A generator function that yields a sync session: a ``Depends`` candidate."""

    name: str
    place: Place
    is_async: bool


@dataclass
class FileFacts:
    path: str
    has_asgi_app: bool = False
    sync_factories: set[str] = field(default_factory=set)  # module-level sessionmaker/registries
    session_aliases: set[str] = field(default_factory=set)  # SessionDep = Annotated[Session, ...]
    scoped_registries: list[ScopedRegistryFact] = field(default_factory=list)
    engines: list[EngineFact] = field(default_factory=list)
    session_calls: list[SessionCall] = field(default_factory=list)
    registry_closes: list[tuple[Place, str]] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    endpoints: list[EndpointFact] = field(default_factory=list)
    functions: list[FunctionFact] = field(default_factory=list)
    relationships: set[str] = field(default_factory=set)  # relationship() attribute names
    async_attribute_reads: list[AttributeReads] = field(default_factory=list)
    async_call_sites: list[CallSite] = field(default_factory=list)
    session_dependencies: list[DependencyFact] = field(default_factory=list)
    suppressions: dict[int, set[str]] = field(default_factory=dict)  # line -> codes; "*": all


@dataclass(frozen=True)
class FunctionFact:
    """A function or method, for the name-based call graph."""

    name: str
    is_async: bool
    calls: tuple[str, ...]  # simple names of the repository functions it may call
    session_io: tuple[str, ...]  # factories of the sync sessions it does I/O on ("" = surely)
    blocking: tuple[str, ...]  # non-database blocking calls it makes itself
    loads_eagerly: bool = False  # mentions selectinload(), joinedload(), awaitable_attrs...


@dataclass(frozen=True)
class CallSite:
    """An un-awaited call inside ``async def`` to something the repository may define."""

    place: Place
    function: str
    callee: str


@dataclass(frozen=True)
class AttributeReads:
    """``var.attr`` reads on local objects inside one ``async def`` that loads nothing eagerly."""

    place: Place
    function: str
    reads: tuple[tuple[str, str], ...]
    calls: tuple[str, ...]  # called or handed over: one that loads eagerly may have loaded them
