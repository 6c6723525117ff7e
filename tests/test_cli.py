"""The four command lines of the package share one style: an argparse `cli_parser()` and a `main(argv)` entry point,
run by `python -m gnm_nb.<module>`."""
import importlib, subprocess, sys
import pytest

MODULES = ("train", "evaluate", "release", "bench")


@pytest.mark.parametrize("name", MODULES)
def test_cli_help_runs_and_names_the_module(name):
    mod = importlib.import_module(f"gnm_nb.{name}")
    assert callable(mod.main) and mod.cli_parser().prog == f"python -m gnm_nb.{name}"
    p = subprocess.run([sys.executable, "-m", f"gnm_nb.{name}", "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"usage: python -m gnm_nb.{name}"), p.stdout[:200]


def test_bad_option_is_a_usage_error():
    p = subprocess.run([sys.executable, "-m", "gnm_nb.train", "--optimizer", "adamw"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "optimizer must be one of" in p.stderr, p.stderr
