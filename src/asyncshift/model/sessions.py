"""What each function does with sessions, and what it blocks on, from resolved facts only.

A session operation counts only when every type its receiver may have is a session (or a
registry, which proxies one) of the same kind; a call is followed only to functions the model
resolved. Chains are printed with qualified names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncshift.model import types as t
from asyncshift.model.exprs import Expr, dotted
from asyncshift.model.records import CallFact, Frame

if TYPE_CHECKING:
    from asyncshift.model.repo import RepoModel

MAX_CHAIN = 8


@dataclass(frozen=True)
class SessionOp:
    call: CallFact
    method: str
    kind: str  # "sync" | "async"
    io: bool
    receiver: str  # the receiver as written, for messages
    on: str  # "session" | "engine" | "connection"


@dataclass(frozen=True)
class Effect:
    """Something a function does itself: what, and where."""

    call: CallFact
    what: str  # "sync session I/O (db.query)", "time.sleep()", "asyncio.run()"


@dataclass
class FrameSummary:
    ops: list[SessionOp]
    sync_io: Effect | None
    blocking: Effect | None
    file_io: Effect | None
    loop: Effect | None
    callees: list[tuple[CallFact, str]]  # resolved repository functions, in call order


def _written(expr: Expr) -> str:
    return dotted(expr) or "…"


class Sessions:
    def __init__(self, model: RepoModel) -> None:
        self.model = model
        self._summaries: dict[str, FrameSummary] = {}

    def summary(self, path: str, frame: Frame) -> FrameSummary:
        fq = self.model.fq(path, frame.qualname)
        found = self._summaries.get(fq)
        if found is None:
            found = self._summarise(path, frame)
            self._summaries[fq] = found
        return found

    def _summarise(self, path: str, frame: Frame) -> FrameSummary:
        model = self.model
        ops: list[SessionOp] = []
        summary = FrameSummary(ops, None, None, None, None, [])
        for call in frame.calls:
            func = call.expr[1]
            if call.deferred:
                continue
            if func[0] == "a":
                op = self._operation(path, frame, call, func)
                if op is not None:
                    ops.append(op)
                    if op.kind == t.SYNC and op.io and summary.sync_io is None:
                        summary.sync_io = Effect(
                            call, f"sync {op.on} I/O ({op.receiver}.{op.method})"
                        )
            externals = model.external_names(path, frame, func)
            for name in sorted(externals):
                if name in t.BLOCKING_CALLS and summary.blocking is None:
                    summary.blocking = Effect(call, f"{name}()")
                if name in t.FILE_IO and summary.file_io is None:
                    summary.file_io = Effect(call, f"{name}()")
                if name in t.LOOP_RUNNERS and summary.loop is None:
                    summary.loop = Effect(call, f"{name}()")
            if func[0] == "a" and func[2] in t.LOOP_RUNNER_METHODS and summary.loop is None:
                receivers = model.types(path, frame, func[1])
                if t.all_are(receivers, lambda r: r == t.LOOP):
                    summary.loop = Effect(call, f"loop.{func[2]}()")
            for target in model.targets(path, frame, func):
                summary.callees.append((call, target))
        return summary

    def _operation(
        self, path: str, frame: Frame, call: CallFact, func: tuple[object, ...]
    ) -> SessionOp | None:
        method = str(func[2])
        receivers = self.model.types(path, frame, func[1])  # type: ignore[arg-type]
        if not receivers:
            return None
        kinds = {r[1] for r in receivers if len(r) > 1}
        if len(kinds) != 1:
            return None
        kind = next(iter(kinds))
        written = _written(func[1])  # type: ignore[arg-type]
        if all(t.is_session(r) for r in receivers):
            if method in t.SESSION_IO:
                return SessionOp(call, method, kind, True, written, "session")
            if method in t.SESSION_NO_IO:
                return SessionOp(call, method, kind, False, written, "session")
            return None
        if all(r[0] == "engine" for r in receivers) and method in t.ENGINE_CHECKOUT:
            return SessionOp(call, method, kind, True, written, "engine")
        if all(r[0] == "connection" for r in receivers) and method in t.CONNECTION_IO:
            return SessionOp(call, method, kind, True, written, "connection")
        return None

    # -- sessions that live in a context: registries, ContextVars, request.state ----------------

    def creates_session(self, path: str, frame: Frame, call: CallFact) -> bool:
        """The call makes a session: a sessionmaker, a registry, a Session class."""
        made = self.model.types(path, frame, call.expr[1])
        return bool(made) and all(
            m[0] in ("factory", "registry")
            or (m[0] == "ext" and m[1] in t.SYNC_SESSION_CLASSES | t.ASYNC_SESSION_CLASSES)
            for m in made
        )

    def scopes_session(self, path: str, frame: Frame) -> str | None:
        """What makes a context-scoped session here: a registry call, or a session created
        next to a ``ContextVar.set``; None when the frame does neither."""
        model = self.model
        created = None
        sets_context = False
        for call in frame.calls:
            func = call.expr[1]
            made = model.types(path, frame, func)
            if made and all(m[0] == "registry" for m in made):
                return f"{_written(func)}() (a scoped registry)"
            if self.creates_session(path, frame, call):
                created = created or f"{_written(func)}()"
            if func[0] == "a" and func[2] == "set":
                receivers = model.types(path, frame, func[1])
                sets_context |= t.all_are(receivers, lambda r: r == t.CONTEXT_VAR)
        return f"{created} stored in a ContextVar" if created and sets_context else None

    def reached_targets(self, path: str, frame: Frame, call: CallFact) -> list[str]:
        """Functions a call runs: its resolved targets, and ``__enter__``/``__aenter__`` and
        their exits when it is a ``with`` item."""
        model = self.model
        targets = model.targets(path, frame, call.expr[1])
        for made in model.types(path, frame, call.expr):
            if made[0] == "inst":
                for hook in ("__aenter__", "__aexit__", "__enter__", "__exit__"):
                    for found in model.member_types(made[1], hook, made):
                        if found[0] == "bound" and found[1] in model.frames:
                            targets.append(found[1])
        return targets

    def session_scope_chain(self, fq: str, depth: int = 0) -> list[str] | None:
        """From ``fq`` (awaited calls and context managers included) to a context-scoped
        session's creation."""
        if depth > 4 or fq not in self.model.frames:
            return None
        path, frame = self.model.frames[fq]
        found = self.scopes_session(path, frame)
        if found is not None:
            return [self.model.display(fq), found]
        for call in frame.calls:
            for target in self.reached_targets(path, frame, call):
                if target != fq:
                    rest = self.session_scope_chain(target, depth + 1)
                    if rest:
                        return [self.model.display(fq), *rest]
        return None

    # -- chains through resolved calls ------------------------------------------------------------

    def chain(self, fq: str, leaf: str) -> list[str] | None:
        """From function ``fq`` through resolved sync calls to what it does: the path, or None.

        ``leaf`` is a ``FrameSummary`` field: "sync_io", "blocking", "file_io" or "loop".
        Calls inside async functions are not followed: calling one without await runs nothing.
        """
        seen: set[str] = set()

        def walk(current: str, depth: int) -> list[str] | None:
            if current in seen or depth > MAX_CHAIN or current not in self.model.frames:
                return None
            seen.add(current)
            path, frame = self.model.frames[current]
            if frame.is_async:
                return None
            summary = self.summary(path, frame)
            effect = getattr(summary, leaf)
            if effect is not None:
                return [self.model.display(current), effect.what]
            for _, callee in summary.callees:
                rest = walk(callee, depth + 1)
                if rest:
                    return [self.model.display(current), *rest]
            return None

        return walk(fq, 0)
