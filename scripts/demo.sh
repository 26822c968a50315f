#!/usr/bin/env bash
# The main job: install asyncshift into .venv, then migrate the bundled legacy example service
# step by step on SQLite (`asyncshift migrate` over every step that exists), its own tests
# green after each. Nothing else is needed; nothing outside a scratch folder changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[demo]"
.venv/bin/python -m asyncshift.ladder_demo "$@"
