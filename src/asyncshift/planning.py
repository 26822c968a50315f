"""plan: where each endpoint stands on the ladder, and what holds it back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from asyncshift.check.rules.ash002_sync_session_in_async import sync_io_sites
from asyncshift.check.rules.ash009_event_loop_in_sync_path import loop_calls
from asyncshift.model import types as t
from asyncshift.model.records import MODULE_FRAME
from asyncshift.model.repo import RepoModel
from asyncshift.model.routes import Endpoint


@dataclass(frozen=True)
class EndpointPlan:
    path: str
    line: int
    name: str
    route: str
    state: str
    holds_back: tuple[str, ...] = ()


@dataclass
class Plan:
    endpoints: list[EndpointPlan] = field(default_factory=list)
    registries: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    context_managers: list[str] = field(default_factory=list)


SYNC_WITH_SESSION = "sync, sync session"
ASYNC_ON_SYNC_SESSION = "async on a sync session (F4)"
ASYNC = "async"
NO_SESSION = "no session"


def session_kinds(model: RepoModel, path: str, fq: str, depth: int = 0) -> set[str]:
    """The kinds of session an endpoint or dependency receives, through its dependencies too."""
    if depth > 6 or fq not in model.frames:
        return set()
    _, frame = model.frames[fq]
    kinds: set[str] = set()
    ctx_frame = frame
    for param in frame.params:
        if frame.cls is not None and param is frame.params[0]:
            continue
        for found in model.types(path, ctx_frame, ("n", param.name)):
            if t.is_session(found):
                kinds.add(found[1])
    for _, dependency in model.routes.dependencies_of(path, frame):
        dep_path, _ = model.frames[dependency]
        kinds |= session_kinds(model, dep_path, dependency, depth + 1)
    return kinds


def _holds_back(model: RepoModel, endpoint: Endpoint) -> tuple[str, ...]:
    reasons: list[str] = []
    summary = model.sessions.summary(endpoint.path, endpoint.frame)
    for leaf, words in (("blocking", "non-database blocking work"), ("file_io", "file I/O")):
        effect = getattr(summary, leaf)
        if effect is not None:
            reasons.append(f"{effect.what} is {words}: it stays sync until that moves")
        for call, callee in summary.callees:
            chain = model.sessions.chain(callee, leaf)
            if chain and not call.deferred:
                reasons.append(f"{' -> '.join(chain)} is {words}, reached through calls")
    for _, _, loop_chain in loop_calls(model, endpoint.path, endpoint.frame):
        reasons.append(f"{loop_chain} runs an event loop (ASH009)")
    return tuple(dict.fromkeys(reasons))


def make_plan(model: RepoModel) -> Plan:
    plan = Plan()
    for path, frame in model.all_frames():
        for call in frame.calls:
            if not model.external_names(path, frame, call.expr[1]) & t.SCOPED_SESSION:
                continue
            scopefunc = next((v for k, v in call.expr[3] if k == "scopefunc"), None)
            kind = "thread-local (F1)" if scopefunc is None else "custom scope"
            where = "" if frame.qualname == MODULE_FRAME else f" in {frame.qualname}"
            name = next(
                (n for n, values in frame.locals.items() if call.expr in values), "(unnamed)"
            )
            plan.registries.append(f"{path}:{call.line}: {name} = scoped_session{where}, {kind}")
    for fq in sorted(_session_providers(model), key=lambda fq: model.frames[fq][1].line):
        path, frame = model.frames[fq]
        kinds = {p[1] for p in model.provided_types(fq) if t.is_session(p)}
        kind = "/".join(sorted(kinds))
        listing = plan.context_managers if model.is_context_manager(fq) else plan.dependencies
        listing.append(f"{path}:{frame.line}: {frame.qualname}, {kind} session")
    for endpoint in model.routes.endpoints:
        kinds = session_kinds(model, endpoint.path, endpoint.fq)
        holds_back: tuple[str, ...] = ()
        if endpoint.is_async:
            on_loop = t.SYNC in kinds or _does_sync_io_on_the_loop(model, endpoint)
            state = ASYNC_ON_SYNC_SESSION if on_loop else ASYNC
        elif t.SYNC in kinds or model.sessions.chain(endpoint.fq, "sync_io"):
            # a session parameter, or sync session I/O in its body (a registry, db.session)
            state = SYNC_WITH_SESSION
            holds_back = _holds_back(model, endpoint)
        else:
            state = NO_SESSION
        for route in endpoint.routes or ("?",):
            plan.endpoints.append(
                EndpointPlan(
                    endpoint.path,
                    endpoint.frame.line,
                    endpoint.frame.name,
                    f"{endpoint.verb} {route}",
                    state,
                    holds_back,
                )
            )
    return plan


def _does_sync_io_on_the_loop(model: RepoModel, endpoint: Endpoint) -> bool:
    """An ``async def`` endpoint that opens or reaches a sync session in its body (ASH002)."""
    return any(True for _ in sync_io_sites(model, endpoint.path, endpoint.frame))


def _session_providers(model: RepoModel) -> set[str]:
    """Functions that hand out a session to requests: found by type, not by name."""
    found = set()
    endpoints = {e.fq for e in model.routes.endpoints}
    for fq, (path, frame) in model.frames.items():
        if frame.qualname == MODULE_FRAME or fq in endpoints or model.serving.is_test(path):
            continue
        provides = any(t.is_session(p) for p in model.provided_types(fq))
        # A module-level generator that yields a session is the get_db shape; a method or a
        # plain function counts once a resolved Depends(...) uses it.
        shape = bool(frame.yields) and frame.cls is None and frame.parent is None
        if provides and (shape or fq in model.routes.depends_targets):
            found.add(fq)
    return found


def render_plan(plan: Plan, format: str) -> str:
    if format == "json":
        return json.dumps(asdict(plan), indent=2)
    markdown = format == "markdown"
    lines = ["## asyncshift plan", ""] if markdown else []
    counts: dict[str, int] = {}
    for endpoint in plan.endpoints:
        counts[endpoint.state] = counts.get(endpoint.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    lines.append(f"Endpoints: {summary}")
    if markdown:
        lines += ["", "| endpoint | where | state | held back by |", "|---|---|---|---|"]
    for e in plan.endpoints:
        held = "; ".join(e.holds_back)
        if markdown:
            lines.append(f"| `{e.route}` {e.name} | `{e.path}:{e.line}` | {e.state} | {held} |")
        else:
            lines.append(f"  {e.path}:{e.line}: {e.route} {e.name}: {e.state}")
            lines += [f"      held back: {reason}" for reason in e.holds_back]
    for title, items in (
        ("Scoped registries", plan.registries),
        ("Session dependencies", plan.dependencies),
        ("Session context managers", plan.context_managers),
    ):
        lines.append(f"{'### ' if markdown else ''}{title}: {len(items)}")
        lines += [f"{'- ' if markdown else '  '}{item}" for item in items]
    return "\n".join(lines)
