#!/usr/bin/env bash
# Create ./.venv (if missing) and install gnm_nb with its dev tools, as pyproject.toml declares, at the versions of constraints.txt.
# Re-running is cheap: the install is skipped while pyproject.toml and constraints.txt are unchanged since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${GNM_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -c 'import sys; assert sys.version_info >= (3, 10), "gnm_nb needs Python >= 3.10, found " + sys.version'
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.gnm_nb-installed"
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  # always with the constraints: without them pip may pick a multi-GB CUDA build of torch
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e '.[dev]'
  echo "$want" > "$stamp"
fi
# nbdev 3 names its commands nbdev-export, nbdev-clean, nbdev-test; the underscore spellings of nbdev 2 work here too
for c in export clean test; do
  [ -e "$VENV/bin/nbdev_$c" ] || ln -s "nbdev-$c" "$VENV/bin/nbdev_$c"
done
