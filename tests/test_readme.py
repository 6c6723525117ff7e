"""The README is the front door: it is generated from nbs/index.ipynb (scripts/make_readme.py), short, its results table is
the shipped model cards' numbers, its Python block runs, and every command in it runs as written from the repository root
(with tiny sizes appended, in a scratch copy of the repository so that nothing here is touched)."""
import hashlib, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/"scripts"))
import make_readme

README = (ROOT/"README.md").read_text(encoding="utf-8")

def blocks(lang: str) -> list:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)

def commands() -> list:
    "The README's shell commands: continuation lines joined, trailing comments removed."
    out = []
    for b in blocks("bash"):
        for line in b.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"): out.append(re.sub(r"\s+", " ", line))
    return out

def test_readme_in_sync_with_index():
    assert README == make_readme.render(), "README.md is not what nbs/index.ipynb gives: run `python scripts/make_readme.py`"

def test_readme_short():
    n = len(README.splitlines())
    assert n <= 120, f"README.md has {n} lines; the front page keeps to ~120"

def test_results_table_is_the_cards():
    """Every row of the README's results table is what the card of that model says; GNM's models and the Table 1-2 baselines each
    have a row, and every shipped model has one in figures/results.md."""
    rows = [l for l in README.splitlines() if l.startswith("| `")]
    names = [re.match(r"\| `([^`]+)`", l).group(1) for l in rows]
    cards = {p.stem: json.loads(p.read_text()) for p in (ROOT/"checkpoints").glob("*.json")}
    assert sorted(names) == sorted(n for n, c in cards.items() if make_readme.in_readme(c)), names
    results = (ROOT/"figures"/"results.md").read_text(encoding="utf-8")
    assert all(f"`{n}`" in results for n in cards), [n for n in cards if f"`{n}`" not in results]
    for line, name in zip(rows, names):
        want = make_readme.card_row(json.loads((ROOT/"checkpoints"/f"{name}.json").read_text()))
        assert line == want, f"README row of {name} differs from its card:\n{line}\n{want}"

def test_readme_figures_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README): assert (ROOT/path).is_file(), path

def test_python_block_runs():
    "The 'three lines' load a shipped model and draw scenes, from the repository root."
    (code,) = blocks("python")
    # MNIST scenes are sums of glimpses (supp. Alg. 2), so overlapping digits may exceed 1: the check is shape, finiteness and ink
    check = code + "\nimport torch\nassert tuple(scenes.shape) == (16, 1, 128, 128) and bool(torch.isfinite(scenes).all()) and float(scenes.min()) >= 0 and float(scenes.max()) > 0.5, (scenes.shape, float(scenes.min()), float(scenes.max()))\n"
    r = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]

# --- every shell command, with tiny sizes appended (argparse and papermill take the last value of a repeated option) ---
TINY_FIG = "-p n_samples 2 -p n_rows 1 -p n_resample 2 -p n_breakdown 2 -p datasets mnist4"
CASES = {   # README command prefix -> (arguments appended, file the command must have written, relative to the scratch root)
    "bash scripts/main.sh": (TINY_FIG, "figures/headline_mnist4.png"),
    "bash scripts/test.sh": ("tests/test_readme.py -k in_sync", None),
    "source .venv/bin/activate": ("", None),
    "papermill nbs/90_figures.ipynb": (TINY_FIG + " -p out_dir runs/figs", "runs/figs/headline_mnist4.png"),
    "python -m gnm_nb.train": ("--steps 2 --data-size 16 --log-every 1 --ckpt-every 2 --image-every 0", "runs/mnist4/checkpoints/step_00000002.pt"),
    "torchrun --nproc_per_node": ("--steps 1 --batch-size 4 --data-size 8 --log-every 1 --image-every 0", "runs/mnist4_gpu/checkpoints/step_00000001.pt"),
    "papermill nbs/80_train.ipynb": ("-p steps 2 -p data_size 16 -p log_every 1 -p image_every 2", "runs/mnist4_nb/checkpoints/step_00000002.pt"),
    "python -m gnm_nb.evaluate": ("--n-samples 4 --ll-images 2 --ll-k 2 --ap-images 8 --probe-train-images 20 --seeds 0 --metrics s_acc ll repr", "runs/eval_mnist4.json"),
    "bash scripts/prepare.sh": ("tests/test_readme.py -k in_sync", None),
}

def _case(cmd):
    hits = [k for k in CASES if cmd.startswith(k)]
    assert len(hits) == 1, f"README command without exactly one test case in tests/test_readme.py: {cmd!r} ({hits})"
    return hits[0]

def test_every_command_has_a_case():
    used = {_case(c) for c in commands()}
    assert used == set(CASES), f"test cases for commands the README no longer has: {set(CASES) - used}"

def scratch_repo(tmp: Path) -> Path:
    "A copy of the repository's sources (the environment and the shipped models linked, not copied)."
    stamp = ROOT/".venv"/".gnm_nb-installed"
    want = hashlib.sha256((ROOT/"pyproject.toml").read_bytes() + (ROOT/"constraints.txt").read_bytes()).hexdigest()
    if not stamp.is_file() or stamp.read_text().strip() != want:   # else scripts/setup.sh in the copy would reinstall .venv from the copy
        pytest.fail("./.venv is not installed from the current pyproject.toml / constraints.txt: run `bash scripts/setup.sh` first")
    dst = tmp/"repo"; dst.mkdir()
    for f in ("pyproject.toml", "constraints.txt", "README.md"): shutil.copy(ROOT/f, dst)
    for d in ("nbs", "gnm_nb", "scripts", "tests"):
        shutil.copytree(ROOT/d, dst/d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "_*.ipynb"))
    for d in (".venv", "checkpoints"): (dst/d).symlink_to(ROOT/d)
    (dst/"runs").mkdir(); shutil.copy(ROOT/"runs"/"README.md", dst/"runs")   # a fresh clone has runs/ with only its README
    return dst

def scratch_env(repo: Path, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("IN_TEST", "VIRTUAL_ENV")}
    env.update(GNM_ROOT=str(repo), GNM_DATA_DIR=str(tmp/"data"), OMP_NUM_THREADS="1", MPLBACKEND="Agg",
               PATH=f"{ROOT/'.venv'/'bin'}:{env.get('PATH', '')}")
    return env

@pytest.mark.slow
@pytest.mark.parametrize("prefix", list(CASES))
def test_readme_command_runs(prefix, tmp_path):
    (cmd,) = [c for c in commands() if _case(c) == prefix]
    extra, product = CASES[prefix]
    repo = scratch_repo(tmp_path)
    if prefix == "source .venv/bin/activate": cmd += " && python -c 'import gnm_nb, sys; assert sys.prefix.endswith(\".venv\")'"
    else: cmd = f"{cmd} {extra}"
    r = subprocess.run(["bash", "-c", cmd], cwd=repo, env=scratch_env(repo, tmp_path), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    if product: assert (repo/product).is_file(), f"{cmd} did not write {product}"
    assert not (repo/"nbs"/"_quarto.yml").exists() and not (repo/"nbs"/"nbdev.yml").exists()

def test_notebook_paths_from_any_directory(tmp_path):
    "90_figures started outside the repository writes into the repository's folders, and stops before writing anything when it finds no model."
    repo = scratch_repo(tmp_path); env = scratch_env(repo, tmp_path); elsewhere = tmp_path/"elsewhere"; elsewhere.mkdir()
    (tmp_path/"empty").mkdir()
    pm = [str(BIN/"papermill"), str(repo/"nbs"/"90_figures.ipynb"), str(tmp_path/"out.ipynb"), "-k", "python3"]
    r = subprocess.run(pm + ["-p", "checkpoint_dir", str(tmp_path/"empty"), "-p", "out_dir", "figs_none"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "no shipped model" in r.stdout + r.stderr, r.stderr[-2000:]
    assert not (repo/"figs_none").exists() and not (elsewhere/"figs_none").exists()
    r = subprocess.run(pm + ["-p", "datasets", "arrow", "-p", "out_dir", "figs_bad", "-p", "n_samples", "0"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "n_samples must be a positive integer" in r.stdout + r.stderr, r.stderr[-2000:]
    assert not (repo/"figs_bad").exists()

@pytest.mark.slow
def test_notebooks_write_into_the_repository_from_any_directory(tmp_path):
    "Started outside the repository, 90_figures writes into its figures folder and 80_train into its runs/, not next to the caller."
    repo = scratch_repo(tmp_path); env = scratch_env(repo, tmp_path); elsewhere = tmp_path/"elsewhere"; elsewhere.mkdir()
    pm = lambda nb: [str(BIN/"papermill"), str(repo/"nbs"/nb), str(tmp_path/f"{nb}.out.ipynb"), "-k", "python3"]
    r = subprocess.run(pm("90_figures.ipynb") + TINY_FIG.split() + ["-p", "out_dir", "figs_ok"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (repo/"figs_ok"/"headline_mnist4.png").is_file() and not (elsewhere/"figs_ok").exists() and not (tmp_path/"figs_ok").exists()
    r = subprocess.run(pm("80_train.ipynb") + "-p steps 2 -p data_size 16 -p image_every 2 -p out_dir runs/t".split(), cwd=elsewhere,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (repo/"runs"/"t"/"checkpoints"/"step_00000002.pt").is_file() and not (elsewhere/"runs").exists() and not (tmp_path/"runs").exists()
