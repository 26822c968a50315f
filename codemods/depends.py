"""Step 4, depends: async code that still takes or opens a sync session moves to the async one.

An ``async def`` on a sync session dependency gets the async twin (its ``run_in_threadpool``
hand-offs become ``adapt()`` calls, its session calls are awaited); ``with SessionLocal() as
db:`` inside ``async def`` becomes ``async with AsyncSessionLocal() as db:``. Sync dependencies,
``@contextmanager`` helpers and sessionmakers that sync code still uses stay for it; what the
step cannot move safely is reported with the reason.
"""

from __future__ import annotations

from asyncshift.runner.steps import StepInput, Transformed, step

from ._depends_plan import plans
from ._plans import apply_plans


@step(
    "depends",
    "async code on sync session dependencies or `with SessionLocal()` moves to the async session",
    position=4,
)
def depends(given: StepInput) -> Transformed:
    return apply_plans(given, plans, make_async=False)
