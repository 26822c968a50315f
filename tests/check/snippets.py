"""Tiny snippets for the rules, django-upgrade style: silent cases first, then those that fire."""

from __future__ import annotations

import textwrap

from asyncshift.check import check_source

APP = "from fastapi import FastAPI\napp = FastAPI()\n"


def findings(source: str, code: str) -> list[int]:
    return [f.line for f in check_source(textwrap.dedent(source), codes=[code])]


def check_noop(source: str, code: str) -> None:
    assert findings(source, code) == []


def check_fires(source: str, code: str, lines: list[int]) -> None:
    assert findings(source, code) == lines
