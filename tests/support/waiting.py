from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``within`` seconds pass; return its last value.

    For effects that the code under test schedules on the loop (a close started by a task's
    done-callback), not for timing anything.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
