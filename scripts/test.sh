#!/usr/bin/env bash
# The project's test command: set up ./.venv, then run every notebook under nbdev's test runner
# (one pytest item per notebook), the nbdev gates (export in sync, notebooks clean) and the pytest suite.
# The twelve slowest items are listed at the end. Extra arguments go to pytest, e.g. `scripts/test.sh --slow` or `scripts/test.sh -k core`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MPLBACKEND=Agg
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=12 "$@"
