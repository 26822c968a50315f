from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts, Frame
from asyncshift.model.repo import RepoModel

ADVICE = (
    "BaseHTTPMiddleware (and @app.middleware('http')) runs the app in another task and ends "
    "before a streaming body does, so a context-scoped session and its teardown drift apart "
    "from the request. Use the pure ASGI SessionScopeMiddleware and let it close them"
)


def _state_values(frame: Frame) -> set[tuple[object, ...]]:
    return {state.value for state in frame.state_sets}


@rule(
    "ASH005",
    "sessions-in-base-http-middleware",
    "BaseHTTPMiddleware that scopes sessions to the request",
)
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    """Only sessions that outlive the middleware's own code: from a registry, handed over on
    ``request.state`` or through a ContextVar, or released there after ``call_next``. A plain
    session opened and closed inside ``dispatch`` is ASH002's concern, not this rule's."""
    sessions = model.sessions
    middleware = model.serving.http_middleware
    for frame in facts.frames:
        if model.fq(facts.path, frame.qualname) not in middleware:
            continue
        summary = sessions.summary(facts.path, frame)
        handed_over = _state_values(frame)
        for call in frame.calls:
            what = None
            func = call.expr[1]
            op = next((o for o in summary.ops if o.call is call), None)
            receivers = model.types(facts.path, frame, func[1]) if func[0] == "a" else set()
            if op is not None and op.method in ("close", "remove"):
                from_state = func[1][0] == "a" and func[1][1][0] == "a" and func[1][1][2] == "state"
                if from_state or all(r[0] == "registry" for r in receivers):
                    what = f"releases a request's session ({op.receiver}.{op.method}())"
            elif sessions.creates_session(facts.path, frame, call):
                made = model.types(facts.path, frame, func)
                if all(m[0] == "registry" for m in made):
                    what = "creates a session from a scoped registry"
                elif call.expr in handed_over:
                    what = "hands a session to the endpoint on request.state"
            elif call.async_with or call.with_item:
                # Only a context entered here spans call_next; a helper that opens and closes
                # its own session is self-contained.
                for target in sessions.reached_targets(facts.path, frame, call):
                    chain = sessions.session_scope_chain(target)
                    if chain:
                        what = f"opens a context-scoped session ({' -> '.join(chain)})"
                        break
            if what is not None:
                yield Finding(
                    facts.path, call.line, call.col, "ASH005", f"{frame.qualname} {what}: {ADVICE}"
                )
