"""Audit trail, written through the thread's own session (predates dependency injection)."""

from __future__ import annotations

from app.database import ScopedSession
from app.models import AuditEntry


def record(actor_id: int | None, action: str, detail: str = "") -> None:
    ScopedSession.add(AuditEntry(actor_id=actor_id, action=action, detail=detail))
    ScopedSession.commit()


def recent(limit: int = 50) -> list[AuditEntry]:
    return ScopedSession.query(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).all()
