#!/usr/bin/env bash
# The project's main job: set up ./.venv, then regenerate the supplement's figures and tables into figures/ from the shipped
# models in checkpoints/, by running nbs/90_figures.ipynb with papermill (the executed copy goes to runs/90_figures.ipynb).
# Extra arguments go to papermill, e.g. `-p datasets mnist4 -p seed 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p runs
export MPLBACKEND=Agg
exec .venv/bin/papermill nbs/90_figures.ipynb runs/90_figures.ipynb --log-output -k python3 "$@"
