#!/usr/bin/env bash
# The main job: install asyncshift into .venv and run the demo (SQLite, nothing else needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
.venv/bin/python -m asyncshift.demo "$@"
