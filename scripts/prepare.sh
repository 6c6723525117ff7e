#!/usr/bin/env bash
# What `nbdev-prepare` does, without Quarto: export the notebooks into gnm_nb/, strip their outputs, write README.md from
# nbs/index.ipynb, then run the tests (scripts/test.sh; extra arguments go to pytest, e.g. `--slow` or `-k core`).
# Run it before committing. It writes no nbs/_quarto.yml or nbs/nbdev.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
B=.venv/bin
env -u IN_TEST $B/nbdev-export
$B/nbdev-clean
$B/python scripts/make_readme.py
exec bash scripts/test.sh "$@"
