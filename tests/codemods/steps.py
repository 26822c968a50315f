"""django-upgrade style helpers for step tests: no-op cases first, then transformed ones; every
transformed case is run twice (the second run must change nothing) and re-parsed."""

from __future__ import annotations

import ast
import textwrap

import asyncshift.codemods  # noqa: F401 - registers the steps

from asyncshift.runner.apply import transform_sources
from asyncshift.runner.steps import STEPS


def _dedent(files: dict[str, str]) -> dict[str, str]:
    return {path: textwrap.dedent(text) for path, text in files.items()}


def run_step(name: str, files: dict[str, str]) -> dict[str, str]:
    results = transform_sources(STEPS[name], _dedent(files))
    return {path: result.code for path, result in results.items()}


def reports(name: str, files: dict[str, str]) -> list[str]:
    results = transform_sources(STEPS[name], _dedent(files))
    return [f"{path}: {r}" for path, result in results.items() for r in result.reports]


def check_noop(name: str, files: dict[str, str]) -> None:
    assert run_step(name, files) == _dedent(files)


def check_transformed(name: str, before: dict[str, str], after: dict[str, str]) -> None:
    once = run_step(name, before)
    assert once == _dedent(after)
    for text in once.values():
        ast.parse(text)
    assert run_step(name, once) == once, "the second run must change nothing"
