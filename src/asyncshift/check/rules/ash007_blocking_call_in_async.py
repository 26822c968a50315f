from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.check.rules._sites import reached, serving_async_calls
from asyncshift.model import types as t
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel


@rule("ASH007", "blocking-call-in-async", "blocking call inside async def")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    sites = (s for frame in facts.frames for s in serving_async_calls(facts.path, frame, model))
    for site in sites:
        function = site.frame.qualname
        names = model.external_names(facts.path, site.frame, site.call.expr[1])
        advice = next((t.BLOCKING_CALLS[n] for n in sorted(names) if n in t.BLOCKING_CALLS), None)
        if advice is not None:
            yield Finding(
                facts.path,
                site.call.line,
                site.call.col,
                "ASH007",
                f"{advice} (in async def {function})",
            )
            continue
        for chain in reached(model, facts.path, site, "blocking"):
            yield Finding(
                facts.path,
                site.call.line,
                site.call.col,
                "ASH007",
                f"`{chain[0]}()` blocks ({' -> '.join(chain)}) inside async def {function}: "
                "every request waits for it. Move it to a thread (`await "
                "anyio.to_thread.run_sync(...)`) or to async I/O",
            )
            break
