"""check: the read-only twin of the codemods — rules with stable codes, one per hazard."""

from asyncshift.check.finding import Finding
from asyncshift.check.registry import RULES, Rule
from asyncshift.check.run import Report, check_paths, check_source

__all__ = ["RULES", "Finding", "Report", "Rule", "check_paths", "check_source"]
