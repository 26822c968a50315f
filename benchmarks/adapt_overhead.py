"""Cost of adapt(): the same point-select as native async, adapted legacy, and legacy in threads.

    .venv/bin/python -m benchmarks.adapt_overhead [--calls 2000] [--rounds 5]

Starts a private MariaDB with 1,000 users and times, per call, ``SELECT ... WHERE id = :id``:

- native:  ``await session.execute(select(User)...)`` on an AsyncSession (asyncmy);
- adapted: the legacy sync function through ``adapt()`` (run_sync, same AsyncSession), adapted
  once at import;
- call-site: the same, adapted where it is called, ``await adapt(get_user)(db, id)`` on every
  call (the shape the codemod writes into endpoints);
- legacy:  the legacy function on a sync Session (pymysql) in FastAPI's way, a worker thread.

Rounds interleave the modes; the figures are medians over rounds, measured in this one run.
It also times ``adapt()`` itself, without a database: a function and a repository class.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import timeit
from collections.abc import Awaitable, Callable

import anyio
from sqlalchemy import String, create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from asyncshift import adapt, async_engine_from
from benchmarks.private_mariadb import private_mariadb

USERS = 1000


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "bench_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def get_user(db: Session, user_id: int) -> User:
    """The legacy function."""
    return db.execute(select(User).where(User.id == user_id)).scalar_one()


class UserRepository:
    """A legacy repository, for the cost of adapt(cls)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, user_id: int) -> User:
        return get_user(self.db, user_id)

    def by_name(self, name: str) -> User:
        return self.db.execute(select(User).where(User.name == name)).scalar_one()


get_user_adapted = adapt(get_user)


def adapt_alone(number: int = 2000) -> dict[str, float]:
    """Seconds per adapt() call, no database: what the call-site shape adds per request."""
    return {
        "adapt(function)": min(timeit.repeat(lambda: adapt(get_user), number=number)) / number,
        "adapt(class)": min(timeit.repeat(lambda: adapt(UserRepository), number=number)) / number,
    }


async def per_call(calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for n in range(calls):
        await call(n % USERS + 1)
    return (time.perf_counter() - start) / calls


async def run(url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(User), [{"id": n, "name": f"user-{n}"} for n in range(1, USERS + 1)])
    async_engine = async_engine_from(engine)
    times: dict[str, list[float]] = {"native": [], "adapted": [], "call-site": [], "legacy": []}
    async with AsyncSession(async_engine) as adb:
        with Session(engine) as db:

            async def native(user_id: int) -> object:
                result = await adb.execute(select(User).where(User.id == user_id))
                return result.scalar_one()

            async def adapted(user_id: int) -> object:
                return await get_user_adapted(adb, user_id)

            async def call_site(user_id: int) -> object:
                return await adapt(get_user)(adb, user_id)

            async def legacy(user_id: int) -> object:
                return await anyio.to_thread.run_sync(get_user, db, user_id)

            modes = {
                "native": native,
                "adapted": adapted,
                "call-site": call_site,
                "legacy": legacy,
            }
            for call in modes.values():  # warm up: connections, statement caches
                await per_call(100, call)
            for _ in range(rounds):
                for mode, call in modes.items():
                    times[mode].append(await per_call(calls, call))
    await async_engine.dispose()
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with private_mariadb() as mariadb:
        times = asyncio.run(run(mariadb.sync_url, args.calls, args.rounds))
    native = statistics.median(times["native"])
    print(f"{args.calls} point-selects per mode and round, {args.rounds} rounds, MariaDB")
    print(f"{'mode':<10} {'µs/call':>10} {'ratio to native':>16}")
    for mode, values in times.items():
        median = statistics.median(values)
        print(f"{mode:<10} {median * 1e6:>10.1f} {median / native:>15.2f}x")
    print("adapt() alone, no database:")
    for what, seconds in adapt_alone().items():
        print(f"{what:<16} {seconds * 1e6:>10.2f} µs")


if __name__ == "__main__":
    main()
