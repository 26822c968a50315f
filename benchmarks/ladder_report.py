"""What ``benchmarks.ladder_load`` prints and writes: ratios, the table, JSON and the PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.ladder_load import Plan, Result

BASELINE = "hand-written"


def add_ratios(results: list[Result]) -> None:
    baseline = next((r for r in results if r.variant == BASELINE and not r.skipped), None)
    for result in results:
        if baseline is not None and not result.skipped and baseline.throughput > 0:
            result.ratio_to_baseline = result.throughput / baseline.throughput


def print_table(results: list[Result], plan: Plan, pool: str) -> None:
    print(
        f"\n{plan.clients} clients x {plan.requests_per_client} requests, GET "
        f"/users/?limit={plan.limit}, pool of 4 ({pool}); request timeout "
        f"{plan.request_timeout:g} s, stall > {plan.stall:g} s, deadline {plan.deadline:g} s"
    )
    print(
        f"{'variant':<13} {'done/expected':>14} {'req/s':>8} {'/' + BASELINE:>13} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'stalls':>7} {'errors':>7} "
        f"{'timeouts':>8} {'cut':>4} {'unsent':>6} {'srv CPU':>7} {'cli CPU':>7} {'busy':>5}"
    )
    timeout_ms = plan.request_timeout * 1000

    def ms(value: float | None) -> str:
        if value is None:
            return "-"
        return f">={timeout_ms:.0f}" if value >= timeout_ms else f"{value:.1f}"

    for r in results:
        if r.skipped:
            print(f"{r.variant:<13} skipped: {r.skipped}")
            continue
        ratio = "-" if r.ratio_to_baseline is None else f"{r.ratio_to_baseline:.2f}x"
        print(
            f"{r.variant:<13} {f'{r.completed}/{r.expected}':>14} {r.throughput:>8.1f} "
            f"{ratio:>13} {ms(r.p50_ms):>8} {ms(r.p90_ms):>8} {ms(r.p99_ms):>8} "
            f"{r.stalls:>7} {r.errors:>7} {r.timeouts:>8} {r.cut:>4} {r.not_sent:>6} "
            f"{r.server_cpu_cores:>7.2f} {r.client_cpu_cores:>7.2f} {r.machine_busy:>5.0%}"
        )
    for r in results:
        if r.server_errors:
            print(f"{r.variant}: {r.server_errors} requests failed in the server; most often:")
            print(f"    {r.server_top_error}")
    different = [r.variant for r in results if r.same_response is False]
    if different:
        print(f"WARNING: first page differs from {results[0].variant}'s: {', '.join(different)}")


def write_png(path: Path, results: list[Result], plan: Plan) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "no plot: matplotlib is not installed (pip install matplotlib); "
            "the table and the JSON have every number"
        )
        return
    ran = [r for r in results if not r.skipped]
    names = [r.variant for r in ran]
    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 5))
    width, timeout_ms = 0.27, plan.request_timeout * 1000
    timed_out = []  # bars of percentiles at the timeout: requests that never got an answer
    for k, share in enumerate((50, 90, 99)):
        values = [getattr(r, f"p{share}_ms") or 0.0 for r in ran]
        xs = [i + (k - 1) * width for i in range(len(ran))]
        bars = latency.bar(xs, values, width, label=f"p{share}")
        timed_out += [bar for bar, value in zip(bars, values, strict=True) if value >= timeout_ms]
    latency.axhline(timeout_ms, color="red", linestyle="--", linewidth=1)
    latency.text(-0.4, timeout_ms * 1.1, "client timeout", color="red", fontsize=8)
    latency.set_yscale("log")
    latency.set_xticks(range(len(ran)), names)
    latency.set_ylabel("latency, ms (log scale)")
    latency.set_title("Latency percentiles (hatched: timed out, shown as the timeout)")
    latency.legend()  # before the hatching, so that the legend's patches stay plain
    for bar in timed_out:
        bar.set_hatch("//")
    answered = throughput.bar(names, [r.throughput for r in ran], color="tab:green")
    labels = [f"{r.completed}/{r.expected}\n{r.stalls} stalls" for r in ran]
    throughput.bar_label(answered, labels, fontsize=8)
    throughput.set_ylabel("requests/s answered 200")
    throughput.set_title("Throughput (label: done/expected, stalls)")
    throughput.margins(y=0.2)
    fig.suptitle(
        f"GET /users/?limit={plan.limit}: {plan.clients} clients x {plan.requests_per_client} "
        f"requests, pool of 4, uvicorn --workers 1"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot: {path}")
