"""Draw scenes of the first Arrow-room generator (`arrow_room-1`, read from the repository at revision 4415034) with their ground-truth boxes into
figures/arrow_room_v1_scenes.png, for the old-versus-new figure of nbs/03_arrow_room.ipynb.

The old renderer is read from git history rather than kept in the package: it is needed for this one picture only.
Run from the repository root: ./.venv/bin/python scripts/arrow_room_legacy_figure.py"""
import subprocess, sys, types
from pathlib import Path
import numpy as np
from gnm_nb.core import atomic_write_bytes

COMMIT, N, SEED = "4415034", 6, 0

def legacy_module():
    src = subprocess.run(["git", "show", f"{COMMIT}:gnm_nb/arrow_room.py"], capture_output=True, text=True, check=True).stdout
    mod = types.ModuleType("arrow_room_v1"); sys.modules["arrow_room_v1"] = mod
    exec(compile(src.replace("from .core import", "from gnm_nb.core import"), "arrow_room_v1.py", "exec"), mod.__dict__)
    return mod

def draw_boxes(img, boxes, colour=(255, 255, 0)):
    "uint8 [3, H, W] image with 1-pixel box outlines drawn in."
    out = img.copy()
    for x0, y0, x1, y1 in np.floor(boxes).astype(int):
        if x1 <= x0: continue
        x1, y1 = min(x1, out.shape[2] - 1), min(y1, out.shape[1] - 1)
        for c, v in enumerate(colour):
            out[c, y0, x0:x1 + 1] = out[c, y1, x0:x1 + 1] = v
            out[c, y0:y1 + 1, x0] = out[c, y0:y1 + 1, x1] = v
    return out

if __name__ == "__main__":
    import io
    import matplotlib.image as mpimg
    m = legacy_module()
    imgs, ann = m.make_arrow_scenes(np.arange(N), seed=SEED)
    tiles = [draw_boxes(i, a["boxes"]) for i, a in zip(imgs, ann)]
    grid = np.concatenate(tiles, axis=2).transpose(1, 2, 0)
    buf = io.BytesIO(); mpimg.imsave(buf, grid, format="png")
    path = Path("figures/arrow_room_v1_scenes.png"); atomic_write_bytes(path, buf.getvalue()); print("wrote", path, grid.shape)
