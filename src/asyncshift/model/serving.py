"""Which code serves requests: not lifespan/startup work, not a coroutine on a loop of its own,
not tests. The runtime guard exempts the lifespan for the same reason: nothing is served yet."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from asyncshift.model import types as t
from asyncshift.model.exprs import call_arg
from asyncshift.model.infer import Ctx
from asyncshift.model.modules import is_test_path
from asyncshift.model.records import Frame

if TYPE_CHECKING:
    from asyncshift.model.repo import RepoModel


class Serving:
    def __init__(self, model: RepoModel) -> None:
        self.model = model

    @cached_property
    def lifespan(self) -> set[str]:
        """Startup/shutdown handlers and lifespan functions, and functions nested in them."""
        model = self.model
        found: set[str] = set()
        for path, frame in model.all_frames():
            ctx = model.module_ctx(path)
            for decorator in frame.decorators:
                if decorator[0] == "c" and decorator[1][0] == "a" and decorator[1][2] == "on_event":
                    owners = model.typer.types(ctx, decorator[1][1])
                    if t.all_are(owners, lambda o: o in (t.APP, t.ROUTER)):
                        found.add(model.fq(path, frame.qualname))
            for call in frame.calls:
                func = call.expr[1]
                names = model.external_names(path, frame, func)
                handler = None
                if names & (t.APPS | t.ROUTERS):
                    handler = call_arg(call.expr, 99, "lifespan")
                    for key in ("on_startup", "on_shutdown"):
                        listed = call_arg(call.expr, 99, key)
                        if listed is not None and listed[0] == "list":
                            for item in listed[1]:
                                found.update(model.targets(path, frame, item))
                elif func[0] == "a" and func[2] == "add_event_handler":
                    handler = call_arg(call.expr, 1, "func")
                if handler is not None:
                    found.update(model.targets(path, frame, handler))
        nested = {
            model.fq(path, frame.qualname)
            for path, frame in model.all_frames()
            if frame.parent is not None and model.fq(path, frame.parent) in found
        }
        return found | nested

    @cached_property
    def own_loop(self) -> set[str]:
        """Coroutines handed to ``asyncio.run``/``run_until_complete``: they run on a loop of
        their own (a script, a worker thread), where blocking stalls nobody else."""
        model = self.model
        found: set[str] = set()
        for path, frame in model.all_frames():
            for call in frame.calls:
                func = call.expr[1]
                runs = bool(model.external_names(path, frame, func) & t.LOOP_RUNNERS) or (
                    func[0] == "a" and func[2] in t.LOOP_RUNNER_METHODS
                )
                if not runs or not call.expr[2]:
                    continue
                argument = call.expr[2][0]
                target = argument[1] if argument[0] == "c" else argument
                found.update(model.targets(path, frame, target))
        return found

    def is_test(self, path: str) -> bool:
        return is_test_path(path)

    def serves_async(self, path: str, frame: Frame) -> bool:
        """An ``async def`` whose blocking stalls the server's event loop."""
        if not frame.is_async or self.is_test(path):
            return False
        fq = self.model.fq(path, frame.qualname)
        return fq not in self.lifespan and fq not in self.own_loop

    @cached_property
    def http_middleware(self) -> set[str]:
        """Methods of ``BaseHTTPMiddleware`` subclasses and ``@app.middleware("http")``."""
        model = self.model
        found: set[str] = set()
        for fq, (path, cls) in model.classes.items():
            if any(
                b[0] == "ext" and b[1] in t.BASE_HTTP_MIDDLEWARE
                for owner in model.mro(fq)
                for b in model.bases(owner)
            ):
                module = model.module_of(path)
                found.update(f"{module}.{m}" for m in cls.methods.values())
        for path, frame in model.all_frames():
            ctx = Ctx(path, model.files[path].module_frame)
            for decorator in frame.decorators:
                if (
                    decorator[0] == "c"
                    and decorator[1][0] == "a"
                    and decorator[1][2] == "middleware"
                ):
                    owners = model.typer.types(ctx, decorator[1][1])
                    if t.all_are(owners, lambda o: o == t.APP):
                        found.add(model.fq(path, frame.qualname))
        return found
