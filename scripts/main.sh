#!/usr/bin/env bash
# The project's main job: set up ./.venv, then regenerate the supplement's figures and tables into figures/
# by running nbs/90_figures.ipynb with papermill (executed copy in runs/). Extra arguments go to papermill (-p name value ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
nb=nbs/90_figures.ipynb
if [ ! -f "$nb" ]; then
  echo "error: $nb does not exist yet: the figures notebook has not been written (see the open issue on figures)." >&2
  exit 2
fi
mkdir -p runs figures
export MPLBACKEND=Agg
exec .venv/bin/papermill "$nb" runs/90_figures.ipynb --cwd nbs --log-output -k python3 "$@"
