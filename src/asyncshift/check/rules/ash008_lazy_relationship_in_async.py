from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model.records import FileFacts, Frame
from asyncshift.model.repo import RepoModel


def _refreshed(frame: Frame, var: str, attr: str) -> bool:
    """``await session.refresh(user, ["items"])`` loads ``items``."""
    for call in frame.calls:
        func = call.expr[1]
        if func[0] == "a" and func[2] == "refresh" and call.expr[2][:1] == (("n", var),):
            names = call.expr[2][1] if len(call.expr[2]) > 1 else None
            if names is not None and names[0] == "list" and ("str", attr) in names[1]:
                return True
    return False


@rule("ASH008", "lazy-relationship-in-async", "unloaded relationship read in async def")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    for frame in facts.frames:
        if not frame.attr_reads or not model.serving.serves_async(facts.path, frame):
            continue
        for read in frame.attr_reads:
            objects = model.types(facts.path, frame, ("n", read.var))
            # Only objects this code loaded through an AsyncSession: a parameter's origin is
            # unknown, and a sync session's lazy load blocks instead of raising.
            if not objects or not all(o[0] == "obj" and o[3] == "async" for o in objects):
                continue
            hazards = []
            for obj in objects:
                relationship = model.orm.relationship(obj[1], read.attr)
                if relationship is None or not relationship.lazy_loads or read.attr in obj[2]:
                    break
                hazards.append(relationship)
            else:
                if not hazards or _refreshed(frame, read.var, read.attr):
                    continue
                owner = model.display(hazards[0].owner)
                yield Finding(
                    facts.path,
                    read.line,
                    read.col,
                    "ASH008",
                    f"`{read.var}.{read.attr}` reads the relationship {owner}.{read.attr}, "
                    f"which the query in async def {frame.qualname} did not load: a lazy load "
                    "on the event loop raises MissingGreenlet. Load it in the query "
                    f"(`.options(selectinload({owner.rsplit('.', 1)[-1]}.{read.attr}))`), or "
                    "`await obj.awaitable_attrs." + read.attr + "`",
                )
