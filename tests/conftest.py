"""pytest configuration: `--slow` also runs cells flagged `#| slow` in notebooks and tests marked `@pytest.mark.slow`."""
import pytest

def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="run slow notebook cells and slow tests")

def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"): return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)

@pytest.fixture(autouse=True)
def _torch_process_defaults():
    "Notebooks run in this process (tests/test_notebooks.py) may change torch's process-wide defaults (90_figures computes in float64); every test starts from the same ones."
    import torch
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    yield
    torch.set_default_dtype(dtype); torch.set_num_threads(threads)
