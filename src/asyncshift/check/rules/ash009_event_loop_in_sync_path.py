from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts, Frame
from asyncshift.model.repo import RepoModel


def loop_calls(model: RepoModel, path: str, frame: Frame) -> Iterator[tuple[int, int, str]]:
    """(line, col, chain) for each place in ``frame`` that runs an event loop, or reaches one."""
    summary = model.sessions.summary(path, frame)
    if summary.loop is not None:
        yield summary.loop.call.line, summary.loop.call.col, summary.loop.what
    for call, callee in summary.callees:
        if call.deferred:
            continue
        chain = model.sessions.chain(callee, "loop")
        if chain:
            yield call.line, call.col, " -> ".join(chain)


@rule("ASH009", "event-loop-in-request-path", "sync code on a request path runs an event loop")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    if model.serving.is_test(facts.path):
        return
    entries = model.routes.entry_points
    for frame in facts.frames:
        fq = model.fq(facts.path, frame.qualname)
        what = entries.get(fq)
        if what is None or fq in model.serving.lifespan:
            continue
        for line, col, chain in loop_calls(model, facts.path, frame):
            yield Finding(
                facts.path,
                line,
                col,
                "ASH009",
                f"{what} {frame.qualname} runs an event loop ({chain}): it raises 'cannot be "
                "called from a running event loop' the day this code runs as `async def` or "
                "through run_sync/adapt(). Await the coroutine instead, or keep this path sync",
            )
