"""The benchmark's command line end to end: `python -m gnm_nb.bench` with tiny settings in a subprocess writes a JSON file with every
field a reader of the results needs. It times nothing against a threshold (timings depend on the machine and its load)."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("preset", "mode", "batch", "threads", "steps", "median_s", "min_s", "max_s", "images_per_s", "peak_rss_mb",
          "load_start", "load_end", "cpu_s_median", "n_params", "times_s", "placement", "channels_last")


def test_bench_cli_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    env = {**{k: v for k, v in os.environ.items() if k != "IN_TEST"},
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "gnm_nb.bench", "--preset", "cpu_mnist", "--mode", "train,generate", "--batch", "2",
           "--threads", "1", "--steps", "2", "--warmup", "1", "--data", "random", "--json", str(out)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"benchmark failed (exit {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    js = json.loads(out.read_text())
    assert set(js) == {"machine", "results"} and js["machine"]["cpus"] >= 1 and js["machine"]["torch"]
    assert [(res["mode"], res["batch"], res["threads"]) for res in js["results"]] == [("train", 2, 1), ("generate", 2, 1)]
    for res in js["results"]:
        missing = [f for f in FIELDS if f not in res]
        assert not missing, missing
        assert 0 < res["min_s"] <= res["median_s"] <= res["max_s"] and len(res["times_s"]) == 2
        assert res["peak_rss_mb"] > 50 and res["images_per_s"] > 0
    assert "| cpu_mnist | train | 2 | 1 |" in r.stdout          # the printed table


def test_bench_cli_rejects_bad_mode():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "gnm_nb.bench", "--mode", "infer"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode != 0 and "mode must be one of" in r.stderr


def test_bench_cli_profile(tmp_path):
    """`--profile`: per-stage times that add up to the step, FLOPs of the step, achieved GFLOP/s and the CPU's peak, in the JSON and
    as a printed table."""
    out = tmp_path / "profile.json"
    env = {**{k: v for k, v in os.environ.items() if k != "IN_TEST"},
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "gnm_nb.bench", "--profile", "--preset", "cpu_mnist", "--batch", "2", "--steps", "2",
           "--warmup", "1", "--data", "random", "--json", str(out)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"profile failed (exit {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    (p,) = json.loads(out.read_text())["profiles"]
    assert p["threads"] == 1 and p["batch"] == 2
    for key, tol in (("cpu_s", 0.02), ("wall_s", 0.25)):   # wall time: preemption on a loaded machine may land between ranges
        parts = sum(s[key] for s in p["stages"].values())
        assert abs(parts - p[key]) <= tol * p[key] + 2e-3, (key, parts, p[key])
    assert {"encoder", "StructDRAW loop", "glimpse decoder", "rendering and compositing", "backward (all networks)"} <= set(p["stages"])
    assert p["flops"]["total"] == p["flops"]["forward"] + p["flops"]["backward"] > 0
    assert abs(p["gflops_per_cpu_s"] - p["flops"]["total"] / 1e9 / p["cpu_s"]) < 1e-9 * p["gflops_per_cpu_s"]
    assert p["peak"]["flops_per_cycle"] in (8, 16, 32, 64) and p["peak_gflops"] > 0
    assert "| **step** |" in r.stdout and "GFLOP per CPU-s" in r.stdout
