"""The options of a training run have one source, `gnm_nb.train.RunConfig`: the papermill parameters cell of
nbs/80_train.ipynb and the command line `python -m gnm_nb.train` must offer exactly its fields, types and defaults."""
import json, typing
from dataclasses import fields
from pathlib import Path

from gnm_nb.train import RunConfig, cli_parser, parameters_cell_problems

NB = Path(__file__).resolve().parents[1] / "nbs" / "80_train.ipynb"


def _parameters_cell() -> str:
    cells = [c for c in json.loads(NB.read_text())["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{NB.name} must have exactly one cell tagged 'parameters', found {len(cells)}"
    return "".join(cells[0]["source"])


def test_papermill_parameters_cell_matches_run_config():
    assert parameters_cell_problems(_parameters_cell()) == []


def test_train_cell_passes_every_parameter():
    "The cell that trains builds its RunConfig from every field, so a parameter cannot be set and then ignored."
    code = ["".join(c["source"]) for c in json.loads(NB.read_text())["cells"] if c["cell_type"] == "code"]
    assert any("RunConfig(**{f.name: globals()[f.name] for f in fields(RunConfig)})" in c for c in code)


def test_command_line_matches_run_config():
    p = cli_parser()
    opts = {a.dest: a for a in p._actions if a.dest != "help"}
    assert set(opts) == {f.name for f in fields(RunConfig)}
    hints = typing.get_type_hints(RunConfig)
    for f in fields(RunConfig):
        a = opts[f.name]
        assert a.option_strings == ["--" + f.name.replace("_", "-")], a.option_strings
        assert a.default == f.default and a.help == f.metadata["help"], f.name
        base = [t for t in typing.get_args(hints[f.name]) if t is not type(None)] or [hints[f.name]]
        if base[0] is not bool: assert a.type is base[0], (f.name, a.type)
    assert RunConfig(**vars(p.parse_args([]))) == RunConfig()


def test_drift_is_reported():
    "A field missing from the cell, a different default and a different type are each reported."
    cell = _parameters_cell()
    lines = cell.splitlines()
    without_seed = "\n".join(l for l in lines if not l.startswith("data_seed:"))
    assert "data_seed: missing from the cell" in parameters_cell_problems(without_seed)
    other_default = "\n".join(l.replace("= 8", "= 16") if l.startswith("batch_size:") else l for l in lines)
    assert parameters_cell_problems(other_default) == ["batch_size: default 16, RunConfig has 8"]
    other_type = "\n".join(l.replace("lr: float", "lr: int") if l.startswith("lr:") else l for l in lines)
    assert parameters_cell_problems(other_type) == ["lr: annotated int, RunConfig has float"]


def _recipe_commands() -> list:
    "The `python -m gnm_nb.train` commands of 80_train's CPU recipe, as bash expands them (each a list of arguments)."
    import shutil, subprocess
    md = next("".join(c["source"]) for c in json.loads(NB.read_text())["cells"]
              if c["cell_type"] == "markdown" and "## The CPU recipe" in "".join(c["source"]))
    block = md.split("```bash\n", 1)[1].split("```", 1)[0]
    # `python` stands in for the interpreter: it prints each command's arguments instead of training
    script = 'python() { printf "%s\\0" "$@"; printf "\\n"; }\n' + block
    out = subprocess.run([shutil.which("bash"), "-c", script], capture_output=True, text=True, check=True).stdout
    cmds = [l.split("\0")[:-1] for l in out.split("\n") if l]
    assert all(c[:2] == ["-m", "gnm_nb.train"] for c in cmds), [c[:2] for c in cmds]
    return [c[2:] for c in cmds]


def _recipe_problems(cmds:list, root:Path) -> list:
    """What is wrong with a chain of training commands: one that does not parse (unknown flag or preset, overrides its
    family rejects), or one that starts from a checkpoint neither in the repository nor written by an earlier command
    (a checkpoint of run `d` at step `s` is the trainer's `checkpoint_path(d, s)`)."""
    from gnm_nb.trainer import checkpoint_path
    p, reached, problems = cli_parser(), {}, []   # reached: out_dir -> the step its commands so far train to
    for argv in cmds:
        try: c = RunConfig(**vars(p.parse_args(argv)))
        except (SystemExit, TypeError, ValueError, KeyError) as e:
            problems.append(f"{' '.join(argv)}: {e}"); continue
        if c.init_from:
            ck, run = Path(c.init_from), str(Path(c.init_from).parent.parent)
            if run in reached:
                step = ck.stem.rpartition("_")[2]
                if not (step.isdigit() and checkpoint_path(run, int(step)) == ck):
                    problems.append(f"{c.init_from}: not a checkpoint name the trainer writes")
                elif int(step) > reached[run]: problems.append(f"{c.init_from}: no earlier command trains {run} that far")
            elif not (root / ck).is_file(): problems.append(f"{c.init_from}: neither in the repository nor written by an earlier command")
        if c.resume and c.out_dir not in reached: problems.append(f"{c.out_dir}: resumed before a command starts it")
        reached[c.out_dir] = max(reached.get(c.out_dir, 0), c.steps)
    return problems

def test_cpu_recipe_commands_are_valid():
    "Every command of 80_train's CPU recipe parses and starts from a shipped file or from what an earlier command writes."
    cmds = _recipe_commands()
    assert len(cmds) >= 40, len(cmds)
    assert _recipe_problems(cmds, NB.parents[1]) == []


def test_recipe_problems_are_reported():
    root = NB.parents[1]
    a = ["--dataset", "mnist4", "--preset", "cpu_mnist", "--steps", "1000", "--out-dir", "runs/a"]
    b = ["--dataset", "mnist4", "--preset", "cpu_mnist", "--steps", "10", "--init-from", "runs/a/checkpoints/step_00001000.pt", "--out-dir", "runs/b"]
    assert _recipe_problems([a, b], root) == []
    assert _recipe_problems([b, a], root) == ["runs/a/checkpoints/step_00001000.pt: neither in the repository nor written by an earlier command"]
    too_far = b[:7] + ["runs/a/checkpoints/step_00002000.pt"] + b[8:]
    assert _recipe_problems([a, too_far], root) == ["runs/a/checkpoints/step_00002000.pt: no earlier command trains runs/a that far"]
    misnamed = b[:7] + ["runs/a/checkpoints/step_1000.pt"] + b[8:]   # not a name the trainer writes
    assert _recipe_problems([a, misnamed], root) == ["runs/a/checkpoints/step_1000.pt: not a checkpoint name the trainer writes"]
    assert _recipe_problems([a, b[:7] + ["checkpoints/none.ckpt"] + b[8:]], root) == ["checkpoints/none.ckpt: neither in the repository nor written by an earlier command"]
    bad = _recipe_problems([a + ["--model-overrides", '{"beta_gg": 1}']], root)
    assert len(bad) == 1 and "beta_gg" in bad[0], bad
    assert _recipe_problems([a[:-1] + ["runs/c", "--resume", "True"]], root) == ["runs/c: resumed before a command starts it"]
