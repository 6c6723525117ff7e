#!/usr/bin/env bash
# Create ./.venv (if missing) and install gnm_nb with its dev tools, exactly as pyproject.toml declares.
# Re-running is cheap: the install is skipped while pyproject.toml is unchanged since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${GNM_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -c 'import sys; assert sys.version_info >= (3, 10), "gnm_nb needs Python >= 3.10, found " + sys.version' 
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.gnm_nb-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
  echo "$want" > "$stamp"
fi
