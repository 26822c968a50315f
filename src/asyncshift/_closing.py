"""Closing sessions at the end of a scope: every close on its own, failures logged, never raised."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

try:  # SQLAlchemy >= 2.0.22
    from sqlalchemy.orm.session import _SessionCloseState

    _PERMANENTLY_CLOSED: object | None = _SessionCloseState.CLOSED
except (ImportError, AttributeError):  # pragma: no cover - older 2.0 releases
    _PERMANENTLY_CLOSED = None

# Whether a session whose scope ended can be made to refuse new work (SQLAlchemy >= 2.0.22).
CAN_CLOSE_FOR_GOOD = _PERMANENTLY_CLOSED is not None

logger = logging.getLogger("asyncshift")


def mark_unusable(session: Session) -> None:
    """Make a session whose scope ended refuse new work.

    Otherwise code that kept a reference to it would silently begin a new transaction and hold
    a pooled connection that no scope will ever return: F1 and F3 again, by another door. This
    is the state SQLAlchemy gives a session made with ``close_resets_only=False``.
    """
    if CAN_CLOSE_FOR_GOOD and hasattr(session, "_close_state"):
        session._close_state = _PERMANENTLY_CLOSED  # type: ignore[assignment]


def _release_connections(session: Session) -> None:
    """Return the session's own connections to the pool with a single ROLLBACK.

    ``Session.close()`` closes the transaction first and the connection after, so the pool no
    longer knows the connection was just rolled back and rolls it back again: two round trips
    where one does (SQLAlchemy 2.0 and 2.1). Closing the connection while its transaction is
    still open lets SQLAlchemy skip the pool's reset. Connections the session was handed from
    outside (``autoclose`` false: a test's outer transaction, say) are left alone, as
    ``Session.close()`` leaves them.
    """
    transaction = session.get_transaction()
    for entry in list(getattr(transaction, "_connections", {}).values()):
        connection, autoclose = entry[0], entry[-1]
        if autoclose is True and isinstance(connection, Connection):
            connection.close()


def close_sync_sessions(sessions: Iterable[Session], label: str) -> None:
    for session in sessions:
        try:
            _release_connections(session)
            session.close()
        except Exception:
            logger.exception(
                "asyncshift: closing a session at the end of %r failed; the connection was "
                "invalidated or returned by the pool, and the other sessions are closed anyway",
                label,
            )
        finally:
            mark_unusable(session)


async def close_async_session(session: AsyncSession, label: str) -> None:
    try:
        await session.close()
    except Exception:
        logger.exception(
            "asyncshift: closing an AsyncSession at the end of %r failed; the other sessions "
            "are closed anyway",
            label,
        )
    finally:
        mark_unusable(session.sync_session)
