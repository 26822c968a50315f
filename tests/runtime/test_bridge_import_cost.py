"""`import asyncshift` must not pull in the web stack: a worker that needs session_scope pays
for asyncshift and SQLAlchemy only (issue 8, item 17). Measured by benchmarks/import_cost.py."""

from __future__ import annotations

import subprocess
import sys

# starlette is the middleware's, made typing-only separately; FastAPI and pydantic were pulled in
# by the pool-capacity check asking whether Depends has max_concurrency.
WEB_STACK = ("fastapi", "pydantic")


def test_importing_asyncshift_imports_neither_fastapi_nor_pydantic() -> None:
    code = f"import sys, asyncshift\nprint(','.join(m for m in {WEB_STACK!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_the_capacity_check_still_asks_fastapi_when_it_runs() -> None:
    code = (
        "import sys, asyncshift\n"
        "from sqlalchemy import create_engine\n"
        "engine = create_engine('sqlite:///x.db', pool_size=4, max_overflow=0, pool_timeout=None)\n"
        "message = asyncshift.check_pool_capacity(engine, warn=False)\n"
        "print('fastapi' in sys.modules, 'max_concurrency' in message or 'tokens' in message)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "True"]
