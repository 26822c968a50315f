"""The migration ladder: one module per step, installed as ``asyncshift.codemods``.

Each step module registers itself with ``asyncshift.runner.steps.step`` and is imported here,
so that importing this package builds the ladder in order.
"""

from . import async_engine, depends, endpoints, scope_sessions

__all__ = ["async_engine", "depends", "endpoints", "scope_sessions"]
