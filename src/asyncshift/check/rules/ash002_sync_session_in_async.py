from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._sites import Site, reached, serving_async_calls
from asyncshift.model.records import FileFacts, Frame
from asyncshift.model.repo import RepoModel


def sync_io_sites(model: RepoModel, path: str, frame: Frame) -> Iterator[tuple[Site, str]]:
    """Calls in a serving ``async def`` that do sync database I/O, or reach it: with words."""
    summary = model.sessions.summary(path, frame)
    for site in serving_async_calls(path, frame, model):
        op = next((o for o in summary.ops if o.call is site.call), None)
        if op is not None and op.kind == "sync" and op.io:
            yield (
                site,
                (
                    f"`{op.receiver}.{op.method}()` is sync database I/O on a sync {op.on} inside "
                    f"async def {frame.qualname}: it blocks the event loop, and freezes the server "
                    "once the pool is exhausted (F4). Use an AsyncSession, or `await "
                    "adapt(fn)(async_session, ...)` for legacy code, or make it `def`"
                ),
            )
            continue
        for chain in reached(model, path, site, "sync_io"):
            yield (
                site,
                (
                    f"`{chain[0]}()` does sync database I/O ({' -> '.join(chain)}) inside async "
                    f"def {frame.qualname}: it blocks the event loop (F4). Call it through `await "
                    "adapt(...)(async_session, ...)`, or make the caller `def`"
                ),
            )
            break


@rule("ASH002", "sync-session-in-async", "sync session I/O inside async def (F4)")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    for frame in facts.frames:
        for site, message in sync_io_sites(model, facts.path, frame):
            yield Finding(facts.path, site.call.line, site.call.col, "ASH002", message)
