"""Latency of the F1 cure: asyncshift request scoping vs what services run today.

    .venv/bin/python -m benchmarks.scoping_latency [--requests 1600] [--clients 1 8] [--rounds 2]

Starts a private MariaDB, serves the same app (benchmarks/scoping_app.py) in each mode with
uvicorn in its own process, drives it with N concurrent keep-alive clients for each N given,
and prints per mode the median and p90 latency, the server's CPU time per request, and both
as ratios to ``depends`` (FastAPI's documented per-request ``Depends(get_db)`` generator, the
baseline to meet) and to ``legacy`` (thread-local sessions that never end their transaction:
cheap, and wrong), all measured in this one run. Rounds alternate the modes so that drift on
the machine hits all of them alike. With 8 clients on a 2-core machine the server is CPU-bound,
so its latency ratio follows its CPU-per-request ratio; with 1 client it shows the path a
single request takes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from benchmarks.private_mariadb import private_mariadb
from tests.support.server import free_port

MODES = ("legacy", "depends", "hand-written", "asyncshift", "asyncshift-idle-ping")
BASELINE = "depends"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(mode: str, url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "ASYNCSHIFT_BENCH_MODE": mode, "ASYNCSHIFT_BENCH_URL": url}
    command = [sys.executable, "-m", "uvicorn", "benchmarks.scoping_app:app"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/user/1", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the {mode} server did not start") from None
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


async def drive(base: str, requests: int, clients: int) -> list[float]:
    latencies: list[float] = []

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=base) as http:
            for i in range(requests // clients):
                start = time.perf_counter()
                response = await http.get(f"/user/{n * 100_000 + i}")
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1600, help="per mode, load and round")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = parser.parse_args()
    with private_mariadb() as mariadb:
        for clients in args.clients:
            samples: dict[str, list[float]] = {mode: [] for mode in args.modes}
            cpu: dict[str, float] = {mode: 0.0 for mode in args.modes}
            for round_ in range(args.rounds):
                for mode in args.modes:
                    with served(mode, mariadb.sync_url) as (base, pid):
                        asyncio.run(drive(base, clients * 10, clients))  # warm up
                        before = cpu_seconds(pid)
                        samples[mode] += asyncio.run(drive(base, args.requests, clients))
                        cpu[mode] += cpu_seconds(pid) - before
                print(f"{clients} clients: round {round_ + 1}/{args.rounds} done", file=sys.stderr)
            report(clients, args, samples, cpu)


def report(
    clients: int, args: argparse.Namespace, samples: dict[str, list[float]], cpu: dict[str, float]
) -> None:
    print(
        f"\n{clients} client(s), {args.requests} requests per mode and round, {args.rounds} rounds"
    )
    print(
        f"{'mode':<22} {'median ms':>10} {'p90 ms':>8} {'/depends':>9} {'/legacy':>8} "
        f"{'CPU ms/req':>11} {'CPU/depends':>12} {'CPU/legacy':>11}"
    )
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    per_request = {mode: cpu[mode] / len(values) for mode, values in samples.items()}

    def ratio(values: dict[str, float], mode: str, base: str) -> str:
        return f"{values[mode] / values[base]:.2f}x" if base in values else "-"

    for mode, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(
            f"{mode:<22} {medians[mode] * 1000:>10.2f} {p90 * 1000:>8.2f} "
            f"{ratio(medians, mode, BASELINE):>9} {ratio(medians, mode, 'legacy'):>8} "
            f"{per_request[mode] * 1000:>11.3f} {ratio(per_request, mode, BASELINE):>12} "
            f"{ratio(per_request, mode, 'legacy'):>11}"
        )


if __name__ == "__main__":
    main()
