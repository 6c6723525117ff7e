"""pytest configuration: `--slow` also runs cells flagged `#| slow` in notebooks and tests marked `@pytest.mark.slow`."""
import pytest

def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="run slow notebook cells and slow tests")

def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"): return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)
