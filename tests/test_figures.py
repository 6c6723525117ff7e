"""The main job's determinism (issue: figures are byte-identical for a fixed seed): `nbs/90_figures.ipynb` is run twice with
papermill on the shipped MNIST-4 model, once with 1 and once with 2 CPU threads (float32 kernels round differently with the
thread count, the way they do across machines), and every PNG must match byte for byte."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _figures(out: Path, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}   # under IN_TEST the notebook writes to a scratch folder
    env.update(OMP_NUM_THREADS=str(threads), MPLBACKEND="Agg")
    r = subprocess.run([str(BIN/"papermill"), "nbs/90_figures.ipynb", str(out/"run.ipynb"), "--cwd", "nbs", "-k", "python3",
                        "-p", "datasets", "mnist4", "-p", "out_dir", str(out/"figs"), "-p", "n_samples", "8", "-p", "n_breakdown", "2", "-p", "seed", "3"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"papermill failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return {p.name: p.read_bytes() for p in sorted((out/"figs").glob("*.png"))}

@pytest.mark.slow
def test_figures_byte_identical(tmp_path):
    if not (ROOT/"checkpoints/gnm_mnist4.ckpt").is_file(): pytest.fail("checkpoints/gnm_mnist4.ckpt is missing: the shipped model is needed")
    (tmp_path/"a").mkdir(); (tmp_path/"b").mkdir()
    a, b = _figures(tmp_path/"a", 1), _figures(tmp_path/"b", 2)
    assert "fig1_generations_mnist4.png" in a and "headline_mnist4.png" in a, sorted(a)
    assert sorted(a) == sorted(b)
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"PNGs differ between a 1-thread and a 2-thread run with the same seed: {differ}"
