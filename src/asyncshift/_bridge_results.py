"""What a legacy call may hand back across the bridge, once ``run_sync`` has returned.

Anything that would still talk to the database after the adapter has left its greenlet fails
there with SQLAlchemy's bare ``MissingGreenlet`` (or worse, ``NotImplementedError`` from a
closed DML cursor). Results are settled while the greenlet is still running: rows are buffered,
a DML statement's counts are read, and what cannot be settled is refused with the fix.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, NoReturn

from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.orm import Query

# Result methods that fetch rows: on a DML result without RETURNING they raise, as SQLAlchemy's.
_ROW_METHODS = (
    "all", "first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none",
    "scalars", "fetchone", "fetchall", "fetchmany", "mappings", "partitions", "columns",
    "tuples", "unique", "keys",
)  # fmt: skip


class DMLResult:
    """The settled outcome of an INSERT/UPDATE/DELETE without RETURNING.

    Read while the statement's cursor was still open, inside the adapter: ``rowcount``,
    ``lastrowid`` and, for a single-row INSERT, ``inserted_primary_key``. Row-fetching methods
    raise ``ResourceClosedError`` as SQLAlchemy's own ``CursorResult`` does for such statements.
    """

    returns_rows = False

    def __init__(self, result: CursorResult[Any]) -> None:
        self.rowcount: int = result.rowcount
        self.lastrowid: Any = _safely(lambda: result.lastrowid)
        self.is_insert: bool = bool(result.is_insert)
        self._inserted_primary_key: Any = (
            _safely(lambda: result.inserted_primary_key) if self.is_insert else None
        )

    @property
    def inserted_primary_key(self) -> Any:
        if self._inserted_primary_key is None:
            raise ResourceClosedError(
                "inserted_primary_key is only known for a single-row INSERT; this statement "
                "was not one (or the driver did not report it)"
            )
        return self._inserted_primary_key

    def close(self) -> None:
        """Nothing to release: the cursor was closed inside the adapter."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute in _ROW_METHODS:
            return _no_rows
        raise AttributeError(
            f"{type(self).__name__} has no {attribute!r}: the adapter settled this DML result "
            "(rowcount, lastrowid, inserted_primary_key). Read anything else inside the "
            "legacy function, or add RETURNING to get rows back."
        )

    def __repr__(self) -> str:
        return f"<DMLResult rowcount={self.rowcount}>"


def _no_rows(*args: Any, **kwargs: Any) -> NoReturn:
    raise ResourceClosedError(
        "This result object does not return rows. It has been closed automatically."
    )


def _safely(read: Any) -> Any:
    try:
        return read()
    except Exception:  # not every driver or statement reports it
        return None


def settle(result: Any, where: str) -> Any:
    """Run inside the greenlet: make ``result`` safe to use after ``run_sync`` has returned."""
    if isinstance(result, CursorResult) and not result.returns_rows:
        return DMLResult(result)
    if isinstance(result, Result):
        rowcount = result.rowcount if isinstance(result, CursorResult) else None
        buffered = result.freeze()()  # buffered rows: readable anywhere, same Result interface
        if rowcount is not None:
            buffered.rowcount = rowcount  # type: ignore[attr-defined]  # DML ... RETURNING
        return buffered
    if inspect.isgenerator(result) or isinstance(result, (Iterator, Query)):
        raise TypeError(
            f"{where} returned a {type(result).__name__}, which would fetch rows after the "
            "adapter has left its greenlet (MissingGreenlet). Return a list instead "
            "(`return list(...)`, `.all()`), or keep the iteration inside the legacy code."
        )
    return result
