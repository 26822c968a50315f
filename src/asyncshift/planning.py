"""plan: where each endpoint stands on the ladder, and what holds it back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from asyncshift.model.repo import RepoFacts


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


SYNC_WITH_SESSION = "sync, sync session"
ASYNC_ON_SYNC_SESSION = "async on a sync session (F4)"
ASYNC = "async"
NO_SESSION = "no session"


def make_plan(repo: RepoFacts) -> Plan:
    plan = Plan()
    sync_dependencies = {
        d.name for facts in repo.files for d in facts.session_dependencies if not d.is_async
    }
    for facts in repo.files:
        for registry in facts.scoped_registries:
            kind = "thread-local (F1)" if registry.thread_local else "custom scope"
            plan.registries.append(
                f"{facts.path}:{registry.place.line}: {registry.name} = scoped_session, {kind}"
            )
        for dependency in facts.session_dependencies:
            kind = "async" if dependency.is_async else "sync"
            plan.dependencies.append(
                f"{facts.path}:{dependency.place.line}: {dependency.name}, {kind} session"
            )
        for endpoint in facts.endpoints:
            sync_session = (
                bool(endpoint.session_params)
                or bool(set(endpoint.dependencies) & sync_dependencies)
                or bool(set(endpoint.annotation_names) & repo.session_aliases)
            )
            holds_back: tuple[str, ...] = ()
            if endpoint.is_async:
                state = ASYNC_ON_SYNC_SESSION if sync_session else ASYNC
            elif sync_session:
                state = SYNC_WITH_SESSION
                holds_back = tuple(
                    f"{call}() is non-database blocking work: it stays sync until that moves"
                    for call in dict.fromkeys(endpoint.blocking)
                ) + _blocking_through_calls(repo, endpoint.name)
            else:
                state = NO_SESSION
            plan.endpoints.append(
                EndpointPlan(
                    facts.path,
                    endpoint.place.line,
                    endpoint.name,
                    endpoint.route,
                    state,
                    holds_back,
                )
            )
    return plan


def _blocking_through_calls(repo: RepoFacts, endpoint: str) -> tuple[str, ...]:
    reasons = []
    for function in repo.functions.get(endpoint, []):
        for callee in function.calls:
            chain = repo.blocking_chain(callee)
            if chain:
                reasons.append(
                    f"{' -> '.join(chain)} is non-database blocking work, reached through calls"
                )
    return tuple(dict.fromkeys(reasons))


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
    ):
        lines.append(f"{'### ' if markdown else ''}{title}: {len(items)}")
        lines += [f"{'- ' if markdown else '  '}{item}" for item in items]
    return "\n".join(lines)
