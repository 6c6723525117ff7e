#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb (the README is generated; edit the notebook). Without Quarto: the markdown cells are
copied as they are, code cells not marked `#| hide` become ```python blocks (without outputs).
Usage: python scripts/make_readme.py [--check | --rows]   (--check: exit 1 if README.md is not what the notebook gives; writes
nothing. --rows: print the results-table rows of the shipped model cards the README shows, in the form the README's table and its test use)."""
import json, os, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n"

def render(nb_path: Path = ROOT/"nbs"/"index.ipynb") -> str:
    "The README text for the notebook `nb_path`."
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    parts = []
    for c in cells:
        text = "".join(c["source"]).strip("\n")
        if not text: continue
        if c["cell_type"] == "markdown": parts.append(text)
        elif c["cell_type"] == "code":
            lines = text.splitlines()
            if any(l.strip().replace(" ", "") in ("#|hide", "#|exporti") for l in lines if l.startswith("#|")): continue
            code = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
            if code: parts.append(f"```python\n{code}\n```")
    return HEADER + "\n\n".join(parts) + "\n"

DATA = {"mnist4": "MNIST-4", "mnist10": "MNIST-10", "mnist4_10": "MNIST-4-10", "arrow": "Arrow"}
def _f3(v): return "–" if v is None else f"{v:.3f}"
def _fint(v): return "–" if v is None else f"{round(v):,}"

def card_row(c: dict) -> str:
    "The README results-table row of the model card `c` (a model without objects has no AP or z_what accuracy)."
    from gnm_nb.release import steps_text   # steps at each batch size of the card's whole lineage
    m, p = c["metrics"], c["paper"]
    t06 = (m.get("s_acc_temperature") or {}).get("0.6", {}).get("s_acc")
    return (f"| `{c['name']}` | {c['variant']} | {DATA[c['dataset']]} | {steps_text(c)}, "
            f"{c['total_wall_time_hours']:.1f} h | {_f3(m.get('s_acc'))} ({_f3(p.get('s_acc'))}) | {_f3(t06)} "
            f"| {_fint(m.get('d_steps'))} ({_fint(p.get('d_steps'))}) | {_fint(m.get('ll'))} ({_fint(p.get('ll'))}) "
            f"| {_f3(m.get('ap50'))} / {_f3(m.get('ap50_frame'))} ({_f3(p.get('ap50'))}) | {_f3(m.get('zwhat_acc'))} ({_f3(p.get('zwhat_acc'))}) |")

def in_readme(c: dict) -> bool:
    """Whether the README's table shows the model of card `c`: GNM's models and the baselines of supp. Tables 1-2 (MNIST-4-10,
    SPACE). The baselines of Figs 2-4 are in `figures/results.md` with every other card."""
    return c.get("model", "GNM") == "GNM" or c["dataset"] == "mnist4_10" or c.get("variant") == "SPACE"

def card_rows(ckdir: Path = ROOT/"checkpoints") -> list:
    "The README rows of the cards in `ckdir`: GNM's models first, then the baselines; each by data set, then name."
    cards = [c for c in (json.loads(f.read_text(encoding="utf-8")) for f in sorted(ckdir.glob("*.json"))) if in_readme(c)]
    key = lambda c: (c.get("model", "GNM") != "GNM", list(DATA).index(c["dataset"]), c["name"])
    return [card_row(c) for c in sorted(cards, key=key)]

def write(text: str, path: Path) -> None:
    "Replace `path` atomically (a temporary file in the same folder, then a rename)."
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f: f.write(text)
        os.chmod(tmp, 0o644); os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp); raise

def main(argv) -> int:
    if argv == ["--rows"]:
        print("\n".join(card_rows())); return 0
    if argv not in ([], ["--check"]):
        print(__doc__, file=sys.stderr); return 2
    text, readme = render(), ROOT/"README.md"
    if argv == ["--check"]:
        if readme.is_file() and readme.read_text(encoding="utf-8") == text: return 0
        print("README.md is not in sync with nbs/index.ipynb: run `python scripts/make_readme.py`", file=sys.stderr); return 1
    write(text, readme); return 0

if __name__ == "__main__": sys.exit(main(sys.argv[1:]))
