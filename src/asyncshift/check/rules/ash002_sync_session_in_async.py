from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._sites import reached, serving_async_calls
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel


@rule("ASH002", "sync-session-in-async", "sync session I/O inside async def (F4)")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    for site in serving_async_calls(facts, model):
        summary = model.sessions.summary(facts.path, site.frame)
        op = next((o for o in summary.ops if o.call is site.call), None)
        function = site.frame.qualname
        if op is not None and op.kind == "sync" and op.io:
            yield Finding(
                facts.path,
                site.call.line,
                site.call.col,
                "ASH002",
                f"`{op.receiver}.{op.method}()` is sync database I/O on a sync {op.on} inside "
                f"async def {function}: it blocks the event loop, and freezes the server once "
                "the pool is exhausted (F4). Use an AsyncSession, or `await "
                "adapt(fn)(async_session, ...)` for legacy code, or make it `def`",
            )
            continue
        for chain in reached(model, facts.path, site, "sync_io"):
            yield Finding(
                facts.path,
                site.call.line,
                site.call.col,
                "ASH002",
                f"`{chain[0]}()` does sync database I/O ({' -> '.join(chain)}) inside async "
                f"def {function}: it blocks the event loop (F4). Call it through `await "
                f"adapt(...)(async_session, ...)`, or make the caller `def`",
            )
            break
