from __future__ import annotations

from collections.abc import Iterator

from asyncshift.check.finding import Finding
from asyncshift.check.registry import rule
from asyncshift.model import types as t
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel


@rule("ASH004", "raising-cleanup", "cleanup that can raise before the session is released (F3)")
def check(facts: FileFacts, model: RepoModel) -> Iterator[Finding]:
    for frame in facts.frames:
        if not frame.cleanups:
            continue
        fq = model.fq(facts.path, frame.qualname)
        if not any(t.is_session(p) for p in model.provided_types(fq)):
            continue  # not a generator that hands out a session
        for cleanup in frame.cleanups:
            receivers = model.types(facts.path, frame, cleanup.receiver)
            releasers = model.types(facts.path, frame, cleanup.release_receiver)
            if not (t.all_are(receivers, t.is_session) and t.all_are(releasers, t.is_session)):
                continue
            yield Finding(
                facts.path,
                cleanup.line,
                cleanup.col,
                "ASH004",
                f"in {frame.qualname}: `.{cleanup.raising}()` can raise before "
                f"`.{cleanup.release}()` releases the session, leaving it (and its connection) "
                "bound for later requests (F3); release it in a `finally:` first, or scope it "
                "with request_scoped_session + SessionScopeMiddleware",
            )
