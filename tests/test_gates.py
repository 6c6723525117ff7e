"""The two nbdev gates, checked on a scratch copy so they work in any working tree:
the package is in sync with the notebooks (`nbdev-export` changes nothing) and the notebooks are clean (`nbdev-clean` changes nothing)."""
import json, os, re, shutil, subprocess, sys
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

# --- the book states results as facts: work history (sessions, issue numbers, dated logs, commits) lives in RESULTS.md only ---
HISTORY_PATTERNS = {
    "a working session": r"(?i)\bsessions?[- ]\d|\b(?:this|that|last|next|previous|first|second) session\b|\bsessions\b",
    "an issue reference": r"(?i)\bissues? #?\d|\b(?:the|this|an?|open) (?:\w+ )?issue\b|\b(?:PR|pull request|fix(?:es|ed)?|closes?)\s+#\d+|\(#\d+\)",
    "a commit reference": r"(?i)\bin git at\b|\b(?:git|commit)\s+[0-9a-f]{7,40}\b",
    "a dated work log": r"(?i)\b20\d\d-[01]\d-[0-3]\d\b|\btoday\b|\bpreviously\b",
}

def _history_files():
    files = [ROOT/"README.md", *sorted((ROOT/"nbs").rglob("*.ipynb")), *sorted((ROOT/"gnm_nb").rglob("*.py")),
             *sorted(p for p in (ROOT/"scripts").rglob("*") if p.is_file() and p.suffix in (".py", ".sh", ".md", ".txt")),
             *sorted(p for p in (ROOT/"checkpoints").glob("*") if p.suffix in (".json", ".md"))]   # model cards state facts too
    return [f for f in files if ".ipynb_checkpoints" not in f.parts and not f.name.startswith("_")]

def _text(f: Path) -> str:
    if f.suffix != ".ipynb": return f.read_text(encoding="utf-8", errors="replace")
    return "\n".join("".join(c["source"]) for c in json.loads(f.read_text(encoding="utf-8"))["cells"])

def test_no_work_history():
    "No sessions, issue numbers, commit hashes or dated logs in the notebooks, the package, the README or the scripts (RESULTS.md holds them)."
    hits = []
    for f in _history_files():
        for i, line in enumerate(_text(f).splitlines(), 1):
            for what, pat in HISTORY_PATTERNS.items():
                if re.search(pat, line): hits.append(f"{f.relative_to(ROOT)}:{i}: {what}: {line.strip()[:120]}"); break
    assert not hits, "work history outside RESULTS.md (move it there; state the result as a fact):\n" + "\n".join(hits)

def test_history_gate_catches_history():
    "The patterns flag what they should and leave ordinary prose alone."
    flagged = ["Session 7: 30k more steps", "the session-6 model", "see issue 5", "fixes #12", "in git at ec54bff", "on 2026-12-04 we ran",
               "today this machine ran both", "the figures issue asks", "(#3)"]
    clean = ["S-Acc 0.608 at T = 1", "a TensorBoard log", "issued a warning", "colour #1f77b4", "the 2,000-step phase"]
    match = lambda s: any(re.search(p, s) for p in HISTORY_PATTERNS.values())
    assert [s for s in flagged if not match(s)] == []
    assert [s for s in clean if match(s)] == []
