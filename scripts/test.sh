#!/usr/bin/env bash
# Install everything a fresh machine lacks, then lint, type-check and run the whole suite.
#   - a virtual environment in .venv with asyncshift and its dev/test extras (editable)
#   - MariaDB (Debian's mariadb-server) when `mariadbd` is missing; the tests start and stop
#     their own private server, so no system service is started here
# Extra arguments go to pytest, e.g. `scripts/test.sh -k scoping -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "== installing MariaDB (mariadbd is missing)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "== installing asyncshift[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"

echo "== ruff"
.venv/bin/ruff check src codemods tests benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest "$@"

# The oldest supported combination, beside the newest: Python 3.10 (when this machine has it)
# with the lower bounds in constraints/oldest.txt. ASYNCSHIFT_SKIP_OLDEST=1 skips it locally.
if [ "${ASYNCSHIFT_SKIP_OLDEST:-0}" != 1 ]; then
  OLD_PYTHON=""
  for candidate in python3.10 "$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)"; do
    if [ -n "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then OLD_PYTHON=$candidate; break; fi
  done
  if [ -z "$OLD_PYTHON" ]; then
    echo "== oldest combination: no Python 3.10 here, using $($PYTHON --version)"
    OLD_PYTHON=$PYTHON
  fi
  if [ ! -x .venv-oldest/bin/python ]; then
    "$OLD_PYTHON" -m venv .venv-oldest
  fi
  echo "== oldest combination: $(.venv-oldest/bin/python --version), constraints/oldest.txt"
  .venv-oldest/bin/python -m pip install -q --disable-pip-version-check -c constraints/oldest.txt -e ".[test]"
  # The corpus and the tutorials judge the tool, not the runtime's compatibility: once is enough.
  .venv-oldest/bin/pytest -p no:cacheprovider --ignore=tests/packaging \
    -m "not corpus and not realworld" "$@"
fi
