"""The two nbdev gates, checked on a scratch copy so they work in any working tree:
the package is in sync with the notebooks (`nbdev-export` changes nothing) and the notebooks are clean (`nbdev-clean` changes nothing)."""
import os, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}

def _copy(tmp_path: Path) -> Path:
    dst = tmp_path/"repo"; dst.mkdir()
    shutil.copy(ROOT/"pyproject.toml", dst)
    for d in ("nbs", "gnm_nb"):
        shutil.copytree(ROOT/d, dst/d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "_*.ipynb"))
    return dst

def _run(cmd, cwd):
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}  # nbdev-export is a no-op while IN_TEST is set
    r = subprocess.run([str(BIN/cmd)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout}\n{r.stderr}"

def _changed(before, after):
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

def test_package_in_sync_with_notebooks(tmp_path):
    repo = _copy(tmp_path); before = _snapshot(repo/"gnm_nb")
    _run("nbdev-export", repo)
    changed = _changed(before, _snapshot(repo/"gnm_nb"))
    assert not changed, f"gnm_nb/ differs from what the notebooks export: {changed}. Run nbdev-export (or nbdev-update for edits made in gnm_nb/)."

def test_notebooks_clean(tmp_path):
    repo = _copy(tmp_path); before = _snapshot(repo/"nbs")
    _run("nbdev-clean", repo)
    changed = _changed(before, _snapshot(repo/"nbs"))
    assert not changed, f"notebooks are not clean: {changed}. Run nbdev-clean."
