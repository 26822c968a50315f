"""Speed of each ladder step against libcst's bare parse of the same files, in one run.

    .venv/bin/python -m benchmarks.step_speed [--files 600] [PATH]

Without PATH it generates the layered service of ``benchmarks.check_speed`` (about --files
modules). For each step it runs ``apply STEP --check`` (everything but the writes) with one and
with two processes and prints the time and its ratio to libcst's parse and re-emit alone.
"""

from __future__ import annotations

import time

import asyncshift.codemods  # noqa: F401 - registers the steps

from asyncshift.runner.apply import apply_step
from asyncshift.runner.steps import ladder
from benchmarks.check_speed import measured_tree


def main() -> None:
    with measured_tree(__doc__) as (root, files, bare):
        print(f"{len(files)} files; libcst parse + re-emit {bare:.2f} s")
        for step in ladder():
            for jobs in (1, 2):
                start = time.perf_counter()
                report = apply_step(step, [root], "check", jobs=jobs)
                seconds = time.perf_counter() - start
                print(
                    f"{step.name:<16} --jobs {jobs}  {seconds:6.2f} s   {seconds / bare:5.2f}x "
                    f"bare parse   {report.count('changed')} files would change"
                )


if __name__ == "__main__":
    main()
