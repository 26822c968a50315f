"""Rules register themselves by decorator; each has a stable code and a one-line summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from asyncshift.check.finding import Finding
from asyncshift.model.records import FileFacts
from asyncshift.model.repo import RepoModel

RuleFunction = Callable[[FileFacts, RepoModel], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    run: RuleFunction


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, summary: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(function: RuleFunction) -> RuleFunction:
        if code in RULES:
            raise RuntimeError(f"rule code {code} registered twice")
        RULES[code] = Rule(code, name, summary, function)
        return function

    return register
