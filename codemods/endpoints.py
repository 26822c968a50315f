"""Step 3, endpoints: sync ``def`` endpoints and dependencies that take a session become
``async def`` on the async session dependency step 2 made. Session calls are awaited, legacy
code that takes the session runs through ``adapt()`` at the call site, inline ``Query`` chains
run inside ``run_sync``, and a response model is validated inside the bridge, so the
relationships it reads load through the async driver. What cannot move safely stays as it is
and is reported with the reason.
"""

from __future__ import annotations

from asyncshift.runner.steps import StepInput, Transformed, step

from ._endpoint_plan import plans
from ._plans import apply_plans


@step(
    "endpoints",
    "sync endpoints and dependencies that take a session become async def on the async session",
    position=3,
)
def endpoints(given: StepInput) -> Transformed:
    return apply_plans(given, plans, make_async=True)
