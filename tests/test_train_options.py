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
