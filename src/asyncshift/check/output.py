"""Findings as text (like ruff), JSON, or GitHub annotations; the summary for people."""

from __future__ import annotations

import json

from asyncshift.check.run import Report


def render(report: Report, format: str) -> str:
    findings = report.findings
    if format == "json":
        return json.dumps(
            [
                {"path": f.path, "line": f.line, "col": f.col, "code": f.code, "message": f.message}
                for f in findings
            ],
            indent=2,
        )
    if format == "github":
        return "\n".join(
            f"::warning file={f.path},line={f.line},col={f.col},title={f.code}::{f.message}"
            for f in findings
        )
    return "\n".join(f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}" for f in findings)


def summary(report: Report) -> str:
    lines = [f"{_count(report.files_read, 'file')} read, {_count(len(report.findings), 'finding')}"]
    for code, count in sorted(report.by_rule().items()):
        lines.append(f"  {code}: {count}")
    for skipped in report.skipped:
        lines.append(f"  {skipped.status}: {skipped.path}: {skipped.reason}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
