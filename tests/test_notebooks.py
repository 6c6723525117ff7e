"""Every notebook in nbs/ runs under nbdev's own test runner (`nbdev.test.test_nb`), one pytest item per notebook."""
from pathlib import Path
import pytest
import nbdev.test as nbt

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/"nbs").rglob("*.ipynb")
             if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT/"nbs").parts)
             and ".ipynb_checkpoints" not in p.parts)

def test_notebooks_found():
    names = {p.name for p in NBS}
    assert {"index.ipynb", "00_core.ipynb"} <= names, names

@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT/"nbs")) for p in NBS])
def test_notebook(nb, request):
    force = ["slow"] if request.config.getoption("--slow") else None
    ok, secs = nbt.test_nb(nb, skip_flags=["notest", "slow"], force_flags=force, showerr=True)
    assert ok, f"{nb.name} failed under nbdev's test runner (traceback above)"
