"""Step 3, endpoints: sync ``def`` endpoints and dependencies that take a session become
``async def`` on the async session dependency step 2 made. Session calls are awaited, legacy
code that takes the session runs through ``adapt()`` at the call site, inline ``Query`` chains
run inside ``run_sync``, and a response model is validated inside the bridge, so the
relationships it reads load through the async driver. What cannot move safely stays as it is
and is reported with the reason.
"""

from __future__ import annotations

import libcst as cst

from asyncshift.runner.steps import Report, StepInput, Transformed, step

from ._async_rewrite import rewrite_module
from ._edits import Edits
from ._endpoint_plan import plans


@step(
    "endpoints",
    "sync endpoints and dependencies that take a session become async def on the async session",
    position=3,
)
def endpoints(given: StepInput) -> Transformed:
    model = given.model
    sources = model.memo.setdefault("sources", {})
    assert isinstance(sources, dict)
    sources.setdefault(given.path, given.source)
    mine = [p for p in plans(model).values() if p.path == given.path]
    reports: list[Report | str] = []
    ready = []
    for plan in sorted(mine, key=lambda p: p.line):
        if plan.problem is not None:
            line, reason = plan.problem
            reports.append(Report(line, f"{plan.role} {plan.qualname} left sync: {reason}"))
        else:
            ready.append(plan)
    if not ready:
        return Transformed(given.source, reports)
    module = rewrite_module(
        cst.parse_module(given.source),
        [p.qualname for p in ready],
        [r for p in ready for r in p.rewrites],
    )
    edits = Edits(module.code)
    for module_name, name in sorted({i for p in ready for i in p.imports}):
        edits.add_import(module_name, name)
    return Transformed(edits.apply(), reports)
