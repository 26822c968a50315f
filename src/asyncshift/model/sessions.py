"""What each function does with sessions, and what it blocks on, from resolved facts only.

A session operation counts only when every type its receiver may have is a session (or a
registry, which proxies one) of the same kind; a call is followed only to functions the model
resolved. Chains are printed with qualified names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncshift.model import types as t
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


def _written(expr: tuple[object, ...]) -> str:
    from asyncshift.model.exprs import dotted

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
