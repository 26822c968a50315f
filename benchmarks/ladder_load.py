"""Load under pool pressure: the example service on each rung of the ladder, and written by hand.

    .venv/bin/python -m benchmarks.ladder_load [--clients 100] [--requests-per-client 20]
        [--variants legacy step-1 step-4 hand-written] [--json PATH] [--png PATH]

Starts a private MariaDB and serves, one after the other, with real uvicorn in its own process
(``--workers 1``), each variant of the example service (guides/example-service):

- ``legacy``: the service as it is (sync ``def`` endpoints, ``Depends(get_db)``);
- ``step-1``: a copy after ``asyncshift migrate --to scope-sessions``;
- ``step-4``: a copy after ``asyncshift migrate --to depends`` (skipped, with a line saying so,
  while the installed asyncshift has no step ``depends``);
- ``hand-written``: ``benchmarks/ladder_native``, the same endpoint written natively async by
  hand (``AsyncSession`` on asyncmy, ``selectinload`` of what the response model reads).

Every variant gets its own database, seeded alike (USERS users, ITEMS_PER_USER items each, two
tags per item), and a pool of 4 connections with no overflow and a long wait for a free one
(``pool_size=4, max_overflow=0, pool_timeout=30``). For the copies that is a benchmark-only
textual edit of the copy's ``app/database.py``, made BEFORE migrating, so the async twin that
``async_engine_from`` builds from the sync engine inherits it; the sync engine runs on pymysql
(``DATABASE_URL=mysql+pymysql://...``), the twin on asyncmy. The hand-written service sets the
same pool itself. Before loading a variant, the benchmark checks its first page equals the first
variant's byte for byte (same data, same response models).

The load: ``--clients`` concurrent keep-alive clients (httpx, in ``--client-processes``
processes), each sending ``--requests-per-client`` requests one after the other to
``GET /users/?limit=--limit`` (a small page: the legacy service lazy-loads each user's items and
each item's tags while validating the response, a query each; the hand-written one runs three).
Each request has a client timeout (``--request-timeout``) and each variant an overall deadline
(``--deadline``): when it passes, the requests still in flight are cut and the ones not sent yet
are never sent, so the run always ends.

How to read the table (and the JSON, and the PNG):

- ``done/expected``: requests answered 200 out of clients x requests-per-client. Anything short
  of expected timed out, failed (``errors``: a non-200 answer or a broken connection), was cut by
  the deadline, or was never sent.
- ``req/s``: 200 answers per second of the load phase; ``/hand-written``: the ratio of that to
  the hand-written variant measured in the same run.
- ``p50/p90/p99``: latency of every request that ended (200, error or timeout); a timed-out
  request counts as the timeout, so a percentile shown as ``>=`` the timeout means at least that
  share of requests never got an answer.
- ``stalls``: requests slower than ``--stall`` seconds, timed-out ones included.
- ``srv CPU``, ``cli CPU``: cores the server process and the client processes used on average
  during the load; ``busy``: the share of all the machine's cores that were busy (server,
  clients, MariaDB, and anything else running: on a shared machine, a high ``busy`` beside a
  low ``srv CPU`` is someone else's load). If the clients use close to a whole core each, they,
  not the server, may be the limit; near 100 % busy, the machine is.

``step-4`` keeps the service's queries: its response model still reads ``items`` and ``tags``
the endpoint never loaded, now inside ``validate_in_bridge``, which loads them a level at a time
before validating (one query per relationship for the whole page, over the foreign key): 3
queries a page, as the hand-written service's ``selectinload``. What is left between them is
per-request CPU: the bridge's greenlet hops, the second validation pass, the scope middleware.

The legacy variant is expected to stall (F2): with more requests than FastAPI's thread pool has
tokens (40), every token can end up held by an endpoint waiting for a pool connection, while the
4 requests that hold the connections wait for a token to validate their response (validation
lazy-loads ``items`` and ``tags`` in a worker thread). Nothing moves until ``pool_timeout``
expires, so those requests time out at the client.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url

import asyncshift
from asyncshift.examples import copy_example_service
from benchmarks.ladder_native import models
from benchmarks.ladder_report import BASELINE, add_ratios, print_table, write_png
from benchmarks.private_mariadb import private_mariadb
from benchmarks.scoping_latency import cpu_seconds
from tests.support.mariadb import MariaDB
from tests.support.server import free_port

VARIANTS = ("legacy", "step-1", "step-4", "hand-written")
# The ladder step each migrated copy is taken to.
STEP_OF = {"step-1": "scope-sessions", "step-4": "depends"}
NATIVE_APP = "benchmarks.ladder_native.main:app"
REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"

USERS, ITEMS_PER_USER, TAGS_PER_ITEM, TAGS = 50, 3, 2, 12

# The benchmark-only pool: the copy's engine is edited textually, before migrating.
POOL_SETTINGS = "pool_size=4, max_overflow=0, pool_timeout=30"
ENGINE_END = "    pool_pre_ping=True,\n)"
POOL_EDIT = f"    pool_pre_ping=True,\n    {POOL_SETTINGS},  # benchmark-only (ladder_load)\n)"


@dataclass
class Load:
    """What the clients saw; merged over the client processes."""

    expected: int
    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    cut: int = 0  # in flight when the deadline passed
    latencies: list[float] = field(default_factory=list)  # every request that ended
    started: float = 0.0  # wall clock (time.time), shared by all client processes
    ended: float = 0.0
    client_cpu: float = 0.0
    machine_busy: float = 0.0  # CPU seconds the whole machine was busy from started to ended

    def merge(self, other: Load) -> None:
        self.expected += other.expected
        self.ok += other.ok
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.cut += other.cut
        self.latencies += other.latencies
        self.started = min(self.started, other.started) if self.started else other.started
        self.ended = max(self.ended, other.ended)
        self.client_cpu += other.client_cpu
        self.machine_busy = max(self.machine_busy, other.machine_busy)  # the same machine


@dataclass(frozen=True)
class Plan:
    clients: int
    requests_per_client: int
    limit: int
    request_timeout: float
    deadline: float
    stall: float
    client_processes: int


def machine_busy_seconds() -> float:
    """CPU seconds all cores together have spent busy so far (Linux /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def request_path(limit: int, n: int) -> str:
    # Pages spread over the users, so the requests do not all read the same rows.
    return f"/users/?limit={limit}&skip={n % (USERS - limit + 1)}"


async def drive(base: str, plan: Plan, first: int, clients: int, start_at: float) -> Load:
    """``clients`` sequential clients, numbered from ``first``, until done or the deadline."""
    load = Load(expected=clients * plan.requests_per_client)

    async def client(n: int, http: httpx.AsyncClient) -> None:
        for i in range(plan.requests_per_client):
            path = request_path(plan.limit, n * plan.requests_per_client + i)
            start = time.perf_counter()
            try:
                response = await asyncio.wait_for(http.get(path), plan.request_timeout)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                load.timeouts += 1
                load.latencies.append(plan.request_timeout)
                continue
            except httpx.HTTPError:
                load.errors += 1
                load.latencies.append(time.perf_counter() - start)
                continue
            load.latencies.append(time.perf_counter() - start)
            if response.status_code == 200:
                load.ok += 1
            else:
                load.errors += 1

    timeout = httpx.Timeout(plan.request_timeout)
    https = [httpx.AsyncClient(base_url=base, timeout=timeout) for _ in range(clients)]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    load.started, cpu, busy = time.time(), time.process_time(), machine_busy_seconds()
    tasks = [asyncio.create_task(client(first + n, http)) for n, http in enumerate(https)]
    deadline = start_at + plan.deadline - time.time()
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline))
    load.ended, load.machine_busy = time.time(), machine_busy_seconds() - busy
    for task in pending:  # each one is a client with a request in flight
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    load.cut = len(pending)
    load.client_cpu = time.process_time() - cpu
    await asyncio.gather(*(http.aclose() for http in https), return_exceptions=True)
    return load


def drive_in_process(base: str, plan: Plan, first: int, clients: int, start_at: float) -> Load:
    return asyncio.run(drive(base, plan, first, clients, start_at))


def run_load(base: str, plan: Plan) -> Load:
    """The clients, split over the client processes, all starting at the same moment."""
    shares = [plan.clients // plan.client_processes] * plan.client_processes
    for i in range(plan.clients % plan.client_processes):
        shares[i] += 1
    load = Load(expected=0)
    with ProcessPoolExecutor(max_workers=plan.client_processes) as pool:
        start_at = time.time() + 1.0  # time for the processes to start and open their clients
        firsts = [sum(shares[:i]) for i in range(len(shares))]
        futures = [
            pool.submit(drive_in_process, base, plan, first, share, start_at)
            for first, share in zip(firsts, shares, strict=True)
        ]
        for future in futures:
            load.merge(future.result())
    return load


# --- the variants ----------------------------------------------------------------------------


def available_steps() -> list[str]:
    importlib.import_module("asyncshift.codemods")  # registers the steps
    from asyncshift.runner.steps import ladder

    return [step.name for step in ladder()]


def child_env(first_path: Path, database_url: str | None = None) -> dict[str, str]:
    """A child process's environment: the variant's code first, then this process's asyncshift."""
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths = [first_path, Path(asyncshift.__file__).resolve().parents[1]]
    paths += [Path(p).resolve() for p in inherited if p]  # absolute: the child has another cwd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths))}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def limit_pool(database_py: Path) -> None:
    """The benchmark-only textual edit: a pool of 4, no overflow, a long pool_timeout."""
    text = database_py.read_text()
    if text.count(ENGINE_END) != 1:
        raise RuntimeError(
            f"{database_py}: the create_engine(...) call no longer ends with {ENGINE_END!r}; "
            "update ladder_load.ENGINE_END to the example service's app/database.py"
        )
    database_py.write_text(text.replace(ENGINE_END, POOL_EDIT))


def prepare_copy(variant: str, scratch: Path) -> Path:
    copy = copy_example_service(scratch / variant)
    limit_pool(copy / "app" / "database.py")
    step = STEP_OF.get(variant)
    if step is not None:
        command = [sys.executable, "-m", "asyncshift", "migrate", "--to", step, str(copy)]
        done = subprocess.run(
            command, cwd=copy, env=child_env(copy), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return copy


def database_for(mariadb: MariaDB, variant: str) -> tuple[str, str]:
    """A database of the variant's own, seeded; (pymysql URL, asyncmy URL)."""
    name = "ladder_" + variant.replace("-", "_")
    admin = mariadb.admin()
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name}")
    finally:
        admin.close()
    sync_url = make_url(mariadb.sync_url).set(database=name)
    seed(sync_url.render_as_string(hide_password=False))
    async_url = sync_url.set(drivername="mysql+asyncmy")
    return sync_url.render_as_string(hide_password=False), async_url.render_as_string(
        hide_password=False
    )


def seed(url: str) -> None:
    """The example service's tables (the same as ladder_native's), filled by plain inserts."""
    engine = create_engine(url)
    try:
        models.Base.metadata.create_all(engine)
        items = USERS * ITEMS_PER_USER
        with engine.begin() as conn:
            conn.execute(
                insert(models.Tag), [{"id": t + 1, "name": f"tag-{t:02d}"} for t in range(TAGS)]
            )
            conn.execute(
                insert(models.User),
                [
                    {
                        "id": u + 1,
                        "email": f"user{u + 1}@example.com",
                        "full_name": f"User {u + 1}",
                        "hashed_password": "not-a-real-hash",
                        "api_token": f"token-{u + 1:04d}",
                        "is_active": True,
                    }
                    for u in range(USERS)
                ],
            )
            conn.execute(
                insert(models.Item),
                [
                    {
                        "id": i + 1,
                        "title": f"Item {i + 1}",
                        "description": None if i % 3 else f"The item numbered {i + 1}",
                        "owner_id": i // ITEMS_PER_USER + 1,
                    }
                    for i in range(items)
                ],
            )
            conn.execute(
                insert(models.item_tags),
                [
                    {"item_id": i + 1, "tag_id": (i + k) % TAGS + 1}
                    for i in range(items)
                    for k in range(TAGS_PER_ITEM)
                ],
            )
    finally:
        engine.dispose()


@contextmanager
def served(
    app: str, cwd: Path, env: dict[str, str], limit: int, log: Path
) -> Iterator[tuple[str, int]]:
    """uvicorn serving ``app`` in its own process, its output to ``log``; yields (base URL, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--workers", "1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"]
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + request_path(limit, 0), timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{app} in {cwd} did not start:\n{tail}") from None
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:  # threads still waiting for a pool connection
            server.kill()
            server.wait()


# --- one variant -----------------------------------------------------------------------------


@dataclass
class Result:
    variant: str
    skipped: str = ""
    same_response: bool | None = None
    expected: int = 0
    completed: int = 0
    errors: int = 0
    timeouts: int = 0
    cut: int = 0
    not_sent: int = 0
    stalls: int = 0
    seconds: float = 0.0
    throughput: float = 0.0
    ratio_to_baseline: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_cores: float = 0.0
    client_cpu_cores: float = 0.0
    machine_busy: float = 0.0  # share of all cores busy during the load (server, clients, DB)
    server_errors: int = 0  # requests that ended in an exception in the server
    server_top_error: str = ""


# The last line of a logged traceback: "sqlalchemy.exc.TimeoutError: QueuePool limit ...".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Timeout)\w*(?::.*)?$")


def server_errors(log: Path) -> tuple[int, str]:
    """How many requests failed in the server, and the exception seen most often."""
    text = log.read_text(errors="replace")
    lines = Counter(line for line in text.splitlines() if EXCEPTION_LINE.match(line))
    most = lines.most_common(1)
    top = f"{most[0][1]} x {most[0][0][:160]}" if most else ""
    return text.count("Exception in ASGI application"), top


def percentile(values: Sequence[float], share: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def summarize(variant: str, load: Load, server_cpu: float, plan: Plan) -> Result:
    seconds = max(load.ended - load.started, 1e-9)
    ended = load.ok + load.errors + load.timeouts
    result = Result(
        variant,
        expected=load.expected,
        completed=load.ok,
        errors=load.errors,
        timeouts=load.timeouts,
        cut=load.cut,
        not_sent=load.expected - ended - load.cut,
        stalls=sum(latency > plan.stall for latency in load.latencies),
        seconds=seconds,
        throughput=load.ok / seconds,
        server_cpu_cores=server_cpu / seconds,
        client_cpu_cores=load.client_cpu / seconds,
        machine_busy=load.machine_busy / seconds / (os.cpu_count() or 1),
    )
    for share in (50, 90, 99):
        value = percentile(load.latencies, share)
        setattr(result, f"p{share}_ms", None if value is None else value * 1000)
    return result


def measure(
    variant: str, mariadb: MariaDB, scratch: Path, plan: Plan, reference: list[bytes]
) -> Result:
    print(f"{variant}: preparing", file=sys.stderr, flush=True)
    sync_url, async_url = database_for(mariadb, variant)
    if variant == BASELINE:
        app, cwd, env = NATIVE_APP, REPO_ROOT, child_env(REPO_ROOT, async_url)
    else:
        cwd = prepare_copy(variant, scratch)
        app, env = "app.main:app", child_env(cwd, sync_url)
    log = scratch / f"{variant}.server.log"
    with served(app, cwd, env, plan.limit, log) as (base, pid):
        first_page = httpx.get(base + request_path(3, 0), timeout=10).content
        if not reference:
            reference.append(first_page)
        for n in range(20):  # warm up: imports, mappers, the pool's connections
            httpx.get(base + request_path(plan.limit, n), timeout=10).raise_for_status()
        print(f"{variant}: loading", file=sys.stderr, flush=True)
        before = cpu_seconds(pid)
        load = run_load(base, plan)
        server_cpu = cpu_seconds(pid) - before
    result = summarize(variant, load, server_cpu, plan)
    result.same_response = first_page == reference[0]
    result.server_errors, result.server_top_error = server_errors(log)
    return result


# --- output (the table and the plot: benchmarks/ladder_report.py) ----------------------------


def write_json(path: Path, results: list[Result], plan: Plan) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "benchmark": "ladder_load",
        "plan": {**asdict(plan), "pool": POOL_SETTINGS, "users": USERS},
        "asyncshift": str(Path(asyncshift.__file__).resolve().parent),
        "results": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"results: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests-per-client", type=int, default=20)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--limit", type=int, default=2, help="page size of GET /users/")
    parser.add_argument("--request-timeout", type=float, default=10.0, help="seconds")
    parser.add_argument("--stall", type=float, default=5.0, help="seconds; slower is a stall")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds per variant")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--json", type=Path, default=RESULTS / "ladder_load.json")
    parser.add_argument("--png", type=Path, default=RESULTS / "ladder_load.png")
    args = parser.parse_args()
    plan = Plan(
        args.clients,
        args.requests_per_client,
        args.limit,
        args.request_timeout,
        args.deadline,
        args.stall,
        args.client_processes,
    )
    steps = available_steps()
    results: list[Result] = []
    reference: list[bytes] = []
    with private_mariadb() as mariadb, tempfile.TemporaryDirectory(prefix="ladder-") as tmp:
        for variant in args.variants:
            step = STEP_OF.get(variant)
            if step is not None and step not in steps:
                reason = (
                    f"the installed asyncshift ({Path(asyncshift.__file__).parent}) has no step "
                    f"{step!r} yet (its steps: {', '.join(steps)})"
                )
                print(f"{variant}: skipped: {reason}", flush=True)
                results.append(Result(variant, skipped=reason))
                continue
            results.append(measure(variant, mariadb, Path(tmp), plan, reference))
    add_ratios(results)
    print_table(results, plan, POOL_SETTINGS)
    write_json(args.json, results, plan)
    write_png(args.png, results, plan)


if __name__ == "__main__":
    main()
