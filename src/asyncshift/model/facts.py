"""One pass over one file: the facts every rule and step reads, compact and picklable.

Facts that need the whole repository (is this name a sync session factory? is there an ASGI
app at all?) are recorded as candidates here and settled in ``RepoFacts``.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from asyncshift.model import names
from asyncshift.model.cleanup import cleanup_hazards
from asyncshift.model.imports import ImportAliases, qualify
from asyncshift.model.records import (
    AttributeReads,
    CallSite,
    DependencyFact,
    EndpointFact,
    EngineFact,
    FileFacts,
    FunctionFact,
    Hazard,
    Place,
    ScopedRegistryFact,
    SessionCall,
)
from asyncshift.model.routes import (
    added_route,
    annotation_names,
    decorated_route,
    depends_names,
    is_http_middleware,
)
from asyncshift.model.syntax import (
    eager_lazy_argument,
    is_test_fixture,
    literal_number,
    middleware_hazard,
    suppressions,
)


class _Collector(ImportAliases):
    """One pass: imports are recorded as they come, which is before their uses in practice."""

    def __init__(self, facts: FileFacts, source: str) -> None:
        super().__init__()
        self.facts = facts
        self.lines = source.splitlines()
        self.pending_places: list[tuple[cst.CSTNode, Place]] = []
        self.functions: list[cst.FunctionDef] = []
        self.async_depth = 0
        self.sync_vars: list[dict[str, str | None]] = []  # per function: var -> factory
        self.blocking: list[list[str]] = []  # per function: non-database blocking calls
        self.calls: list[list[str]] = []  # per function: callee names
        self.session_io: list[list[str]] = []  # per function: factories of sessions it uses
        self.middleware_classes = 0
        self.module_assignments: dict[int, str] = {}  # id(call) -> the name it is bound to
        self.api_routes: dict[str, str] = {}  # function name -> route, from add_api_route
        self.attribute_reads: list[list[tuple[str, str]]] = []  # per function: (var, attr)
        self.yields: list[list[cst.Yield]] = []  # per function
        self.async_with_items: set[int] = set()
        self.eager: list[bool] = []  # per function: mentions an eager-loading option
        self.awaited: set[int] = set()  # ids of awaited expressions
        self.lambdas = 0
        self.assigned: list[set[str]] = []  # per function: names bound by `=`
        self.references: list[list[str]] = []  # per function: names passed to calls
        self.returns_state_session: list[bool] = []  # per function

    # -- helpers --------------------------------------------------------------------------------

    def place(self, node: cst.CSTNode) -> Place:
        place = Place(0, 0)
        self.pending_places.append((node, place))
        return place

    def def_place(self, node: cst.FunctionDef) -> Place:
        """Where ``def name`` is, from the text: positions cost a second pass over the file, and
        endpoints and dependencies are in nearly every file."""
        pattern = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(node.name.value)}\b")
        for number, line in enumerate(self.lines, start=1):
            found = pattern.match(line)
            if found:
                return Place(number, found.end() - len(node.name.value) + 1)
        return self.place(node.name)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        if not isinstance(node, cst.BaseExpression):
            return set()
        name = qualify(node, self.aliases)
        return {name} if name else set()

    def is_(self, node: cst.CSTNode, wanted: set[str]) -> bool:
        return bool(self.qualified(node) & wanted)

    @property
    def in_async(self) -> bool:
        return bool(self.functions) and self.functions[-1].asynchronous is not None

    # -- module level ---------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.is_(func, names.ASGI_APPS):
            self.facts.has_asgi_app = True
        if self.is_(func, names.CREATE_ENGINE):
            self._engine(node)
        if self.is_(func, names.SCOPED_SESSION):
            self._scoped(node)
        if self.middleware_classes and self._creates_or_releases_session(node):
            self.facts.hazards.append(middleware_hazard(self.place(node), "BaseHTTPMiddleware"))
        if self.functions:
            self._note_blocking(node)
            self._note_call(node)
        if self.in_async:
            self._async_call(node)
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "close"
            and isinstance(func.value, cst.Name)
            and not any(func.value.value in scope for scope in self.sync_vars)
        ):
            self.facts.registry_closes.append((self.place(node), func.value.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.functions:
            return
        target = node.targets[0].target
        if (
            isinstance(node.value, cst.Subscript)
            and isinstance(target, cst.Name)
            and self._is_sync_session_type(node.value)
        ):
            self.facts.session_aliases.add(target.value)  # SessionDep = Annotated[Session, ...]
        if not isinstance(node.value, cst.Call):
            return
        func = node.value.func
        makers = names.SESSIONMAKERS | names.SCOPED_SESSION | names.REQUEST_SCOPED
        if self.is_(func, makers | names.CREATE_ENGINE):  # engines: `engine.connect()` checks out
            for assigned in node.targets:
                if isinstance(assigned.target, cst.Name):
                    self.facts.sync_factories.add(assigned.target.value)

    def _engine(self, node: cst.Call) -> None:
        values: dict[str, float | None] = {}
        given: set[str] = set()
        for arg in node.args:
            if arg.keyword and arg.keyword.value in ("pool_size", "max_overflow", "pool_timeout"):
                is_literal, value = literal_number(arg.value)
                if is_literal:
                    values[arg.keyword.value] = value
                    given.add(arg.keyword.value)
        if not given:
            return
        size, overflow = values.get("pool_size"), values.get("max_overflow")
        self.facts.engines.append(
            EngineFact(
                place=self.place(node),
                pool_size=int(size) if size is not None else None,
                max_overflow=int(overflow) if overflow is not None else None,
                pool_timeout=values.get("pool_timeout"),
                pool_timeout_given="pool_timeout" in given,
            )
        )

    def _scoped(self, node: cst.Call) -> None:
        scopefunc = next(
            (a.value for a in node.args if a.keyword and a.keyword.value == "scopefunc"), None
        )
        thread_local = scopefunc is None or self.is_(scopefunc, names.THREAD_SCOPEFUNCS)
        parent_name = self._assigned_name(node)
        self.facts.scoped_registries.append(
            ScopedRegistryFact(parent_name or "scoped_session", self.place(node), thread_local)
        )

    def _assigned_name(self, node: cst.Call) -> str | None:
        return self.module_assignments.get(id(node))

    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    added = added_route(small.value)
                    if added is not None:
                        self.api_routes[added[0]] = added[1]
                if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                    target = small.targets[0].target
                    if isinstance(target, cst.Name):
                        self.module_assignments[id(small.value)] = target.value

    # -- classes: BaseHTTPMiddleware that manages sessions ----------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if any(self.is_(base.value, names.BASE_HTTP_MIDDLEWARE) for base in node.bases):
            self.middleware_classes += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if any(self.is_(base.value, names.BASE_HTTP_MIDDLEWARE) for base in node.bases):
            self.middleware_classes -= 1

    def _creates_or_releases_session(self, node: cst.Call) -> bool:
        func = node.func
        if isinstance(func, cst.Name) and func.value in self.facts.sync_factories:
            return True
        if self.is_(func, names.SYNC_SESSION_CLASSES | names.SESSIONMAKERS):
            return True
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in names.RELEASES
            and isinstance(func.value, cst.Name)
            and func.value.value in self.facts.sync_factories
        )

    # -- functions --------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)
        known: dict[str, str | None] = {}
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            annotation = param.annotation
            if annotation is None:
                continue
            if self._is_sync_session_type(annotation.annotation):
                known[param.name.value] = None
            elif isinstance(annotation.annotation, cst.Name):
                # Maybe an alias such as `SessionDep`, settled against the repository's aliases.
                known[param.name.value] = annotation.annotation.value
        if node.asynchronous is None:
            for param in (*node.params.posonly_params, *node.params.params):
                if param.annotation is None and param.name.value in names.SESSION_PARAM_NAMES:
                    known[param.name.value] = None  # legacy data layer: `def get(db, id)`
        self.sync_vars.append(known)
        self.blocking.append([])
        self.attribute_reads.append([])
        self.calls.append([])
        self.session_io.append([])
        if is_http_middleware(node):
            self.middleware_classes += 1
        self.yields.append([])
        self.returns_state_session.append(False)
        self.eager.append(False)
        self.assigned.append(set())
        self.references.append([])

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if is_http_middleware(node):
            self.middleware_classes -= 1
        blocking = self.blocking.pop()
        calls, session_io = self.calls.pop(), self.session_io.pop()
        yields, returns_state_session = self.yields.pop(), self.returns_state_session.pop()
        eager = self.eager.pop()
        assigned, references = self.assigned.pop(), self.references.pop()
        if eager and self.eager:
            self.eager[-1] = True  # a nested function's options serve the enclosing one too
        if yields:
            self.facts.hazards += cleanup_hazards(node, self.place)
        # Objects the function loaded itself; parameters are mostly request bodies (pydantic).
        reads = [(var, attr) for var, attr in self.attribute_reads.pop() if var in assigned]
        if node.asynchronous is not None and reads and not eager:
            self.facts.async_attribute_reads.append(
                AttributeReads(
                    self.def_place(node),
                    node.name.value,
                    tuple(dict.fromkeys(reads)),
                    tuple(dict.fromkeys(calls + references)),
                )
            )
        self.facts.functions.append(
            FunctionFact(
                node.name.value,
                node.asynchronous is not None,
                tuple(dict.fromkeys(calls)),
                tuple(dict.fromkeys(session_io)),
                tuple(dict.fromkeys(blocking)),
                eager,
            )
        )
        route = decorated_route(node) or self.api_routes.get(node.name.value)
        if route is not None:
            self.facts.endpoints.append(
                EndpointFact(
                    name=node.name.value,
                    place=self.def_place(node),
                    route=route,
                    is_async=node.asynchronous is not None,
                    session_params=tuple(k for k, v in self.sync_vars[-1].items() if v is None),
                    annotation_names=tuple(annotation_names(node)),
                    dependencies=tuple(depends_names(node)),
                    blocking=tuple(blocking),
                )
            )
        elif (returns_state_session or self._yields_session(yields)) and not is_test_fixture(node):
            self.facts.session_dependencies.append(
                DependencyFact(node.name.value, self.def_place(node), node.asynchronous is not None)
            )
        self.functions.pop()
        self.sync_vars.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.eager and node.attr.value in names.EAGER_HINTS:
            self.eager[-1] = True  # `User.awaitable_attrs`, `orm.selectinload`
        if (
            self.in_async
            and isinstance(node.value, cst.Name)
            and node.value.value not in ("self", "cls")
            and node.value.value not in self.aliases  # a module's attribute
        ):
            self.attribute_reads[-1].append((node.value.value, node.attr.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._relationship(node.target, node.value)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._relationship(original_node.targets[0].target, original_node.value)
        self._leave_assign_in_function(original_node)

    def _relationship(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if (
            not self.functions
            and isinstance(target, cst.Name)
            and isinstance(value, cst.Call)
            and self.is_(value.func, names.RELATIONSHIP)
            and not eager_lazy_argument(value)
        ):
            self.facts.relationships.add(target.value)

    _STATE_SESSION = m.Attribute(
        value=m.Attribute(attr=m.Name("state")), attr=m.Name("db") | m.Name("session")
    )

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.yields:
            self.yields[-1].append(node)

    def visit_Return(self, node: cst.Return) -> None:
        # `def get_db(request): return request.state.db` (a middleware put it there)
        value = node.value
        if self.returns_state_session and value and m.matches(value, self._STATE_SESSION):
            self.returns_state_session[-1] = True

    def _yields_session(self, yields: list[cst.Yield]) -> bool:
        known = self.sync_vars[-1]
        for found in yields:
            value = found.value
            if isinstance(value, cst.Name) and value.value in known:
                return True
            if isinstance(value, cst.Call):
                factory = self._factory_of(value)
                if factory is None or (
                    isinstance(factory, str) and factory in self.facts.sync_factories
                ):
                    return True
        return False

    def _is_sync_session_type(self, annotation: cst.BaseExpression) -> bool:
        if self.is_(annotation, names.SYNC_SESSION_CLASSES | names.SCOPED_SESSION):
            return True
        if isinstance(annotation, cst.Subscript):  # Annotated[Session, Depends(...)]
            first = annotation.slice[0].slice
            return isinstance(first, cst.Index) and self._is_sync_session_type(first.value)
        return False

    def _factory_of(self, value: cst.BaseExpression) -> str | bool | None:
        """For ``x = <value>``: the factory name, None if surely sync, False if not a session."""
        if not isinstance(value, cst.Call):
            return False
        if self.is_(value.func, names.SYNC_SESSION_CLASSES):
            return None
        if isinstance(value.func, cst.Name):
            return value.func.value
        return False

    def _leave_assign_in_function(self, original_node: cst.Assign) -> None:
        if self.assigned:
            for assigned in original_node.targets:
                if isinstance(assigned.target, cst.Name):
                    self.assigned[-1].add(assigned.target.value)
        if not self.sync_vars or not isinstance(original_node.targets[0].target, cst.Name):
            return
        factory = self._factory_of(original_node.value)
        if factory is not False:
            self.sync_vars[-1][original_node.targets[0].target.value] = factory  # type: ignore[assignment]

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if not self.sync_vars or node.asname is None:
            return
        target = node.asname.name
        factory = self._factory_of(node.item)
        if isinstance(target, cst.Name) and factory is not False:
            self.sync_vars[-1][target.value] = factory  # type: ignore[assignment]

    # -- async functions: sync session I/O and blocking calls -------------------------------------

    def _note_blocking(self, node: cst.Call) -> None:
        for qualified in self.qualified(node.func):
            if qualified in names.BLOCKING_CALLS:
                self.blocking[-1].append(qualified)

    def _note_call(self, node: cst.Call) -> None:
        func = node.func
        # Functions handed over, as in `adapt(load_user)(db)`: they may load what is read later.
        self.references[-1] += [a.value.value for a in node.args if isinstance(a.value, cst.Name)]
        if isinstance(func, cst.Name) and func.value in names.EAGER_HINTS:
            self.eager[-1] = True
        callee: str | None = None
        if isinstance(func, cst.Name):
            callee = func.value
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            # `crud.get_user(...)`: a module's function; `self.load(...)`: the class's own method
            and (func.value.value in self.aliases or func.value.value in ("self", "cls"))
        ):
            callee = func.attr.value
        if callee is not None:
            self.calls[-1].append(callee)
            if self.in_async and id(node) not in self.awaited and not self.lambdas:
                self.facts.async_call_sites.append(
                    CallSite(self.place(node), self.functions[-1].name.value, callee)
                )
        if isinstance(func, cst.Attribute) and func.attr.value in names.SESSION_IO:
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value in self.sync_vars[-1]:
                self.session_io[-1].append(self.sync_vars[-1][receiver.value] or "")

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:  # `async with engine.connect()`: async by construction
            self.async_with_items.update(id(item.item) for item in node.items)

    def _async_call(self, node: cst.Call) -> None:
        if id(node) in self.async_with_items or id(node) in self.awaited or self.lambdas:
            return
        function = self.functions[-1].name.value
        for qualified in self.qualified(node.func):
            advice = names.BLOCKING_CALLS.get(qualified)
            if advice:
                self.facts.hazards.append(
                    Hazard("ASH007", self.place(node), f"{advice} (in async def {function})")
                )
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in names.SESSION_IO):
            return
        if not isinstance(func.value, cst.Name):
            return
        receiver = func.value.value
        known = self.sync_vars[-1]
        if receiver in known:
            factory = known[receiver]
            self.facts.session_calls.append(
                SessionCall(self.place(node), function, func.attr.value, receiver, factory)
            )
        elif not self._shadowed(receiver):
            # Maybe a module-level registry used directly: `Session.query(...)`.
            self.facts.session_calls.append(
                SessionCall(self.place(node), function, func.attr.value, receiver, receiver)
            )

    def _shadowed(self, name: str) -> bool:
        return any(name in scope for scope in self.sync_vars[:-1])

    def visit_Await(self, node: cst.Await) -> None:
        # The awaited call is async by construction; what it is given is still looked at.
        self.awaited.add(id(node.expression))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1  # `run_in_threadpool(lambda: ...)`: runs elsewhere, not on the loop

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas -= 1

    # -- cleanup that can raise before the session is released (F3) ------------------------------


def collect_facts(path: str, source: str) -> FileFacts:
    """Parse ``source`` once and collect its facts; raises ``libcst.ParserSyntaxError``."""
    module = cst.parse_module(source)
    facts = FileFacts(path=path, suppressions=suppressions(source))
    collector = _Collector(facts, source)
    module.visit(collector)
    if collector.pending_places:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, place in collector.pending_places:
            position = positions[node]
            assert isinstance(position, CodeRange)
            place.line, place.col = position.start.line, position.start.column + 1
    return facts
