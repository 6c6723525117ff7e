"""The explorer driven headless: widget values are set from Python and the rendered picture is checked; the slow test runs the
explorer notebook in JupyterLab in headless Chromium and clicks in the page."""
import importlib.util, io
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from gnm_nb.gnm import load_model
from gnm_nb.datasets import load_scenes
from gnm_nb.explore import Explorer, ExplorerApp, read_scene

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def mnist():
    return load_model(REPO/"checkpoints/gnm_beta2_mnist4.ckpt")

@pytest.fixture(scope="module")
def arrow():
    return load_model(REPO/"checkpoints/gnm_arrow.ckpt")

@pytest.fixture(scope="module")
def mnist_scenes():
    return load_scenes("mnist4", split="test", sizes={"test": 8}, progress=False)

def panel(ex, i):
    "Panel `i` (0 input, 1 boxes over the rendering, 2 rendering) of the PNG the widget shows, as float [H, W, 3], at model scale."
    im = np.asarray(Image.open(io.BytesIO(ex.view.value)).convert("RGB")).astype(np.float32) / 255
    s = ex.model.cfg.img_size * 2
    return im[::2, i * (s + 6):i * (s + 6) + s:2]

def box_mask(ex, k, shape, pad=1):
    x0, y0, x1, y1 = ex.state.boxes()[k].tolist()
    m = np.zeros(shape, bool); m[max(0, int(y0) - pad):int(y1) + pad + 1, max(0, int(x0) - pad):int(x1) + pad + 1] = True
    return m

def test_picture_is_the_rendering(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    test_img = ex.rendered[0]
    assert np.abs(panel(ex, 2)[..., 0] - test_img).max() <= 1 / 255 + 1e-6           # the right panel shows GNM's rendering
    x, p = np.asarray(mnist_scenes.images[0], np.float32)[0] / 255, panel(ex, 0)
    grey = (p[..., 0] == p[..., 1]) & (p[..., 1] == p[..., 2])                         # not a box outline
    assert grey.mean() > 0.9 and np.abs(p[..., 0] - x)[grey].max() <= 1 / 255 + 1e-6  # the left panel shows the input

def test_turning_an_object_off_empties_its_box_only(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    on = np.flatnonzero(ex.state.present().numpy()); assert len(on) >= 2
    k = int(on[0]); ex.obj.value = k
    before = ex.rendered[0].copy()
    inside = box_mask(ex, k, before.shape)
    others = np.zeros_like(inside)
    for j in on[1:]: others |= box_mask(ex, int(j), before.shape)
    assert before[inside & ~others].max() > 0.5                                      # there was ink in the box
    ex.pres.value = False
    after = ex.rendered[0]
    assert after[inside & ~others].max() < 0.02                                      # now the box is empty …
    assert np.abs(after - before)[~inside].max() < 1e-6                              # … and nothing else changed
    assert np.abs(panel(ex, 2)[..., 0] - after).max() <= 1 / 255 + 1e-6              # the picture shows it
    assert ex.obj.value == k and "off" in dict((v, l) for l, v in ex.obj.options)[k]

def centroid(a):
    yy, xx = np.mgrid[:a.shape[0], :a.shape[1]]
    return np.array([(a * xx).sum(), (a * yy).sum()]) / a.sum()

def test_clicking_a_cell_selects_its_object(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    on = [int(k) for k in np.flatnonzero(ex.state.present().numpy())]
    ex.cells[on[1]].click()
    assert ex.obj.value == on[1] and ex.cells[on[1]].button_style == "warning"
    assert [b.button_style for k, b in enumerate(ex.cells) if k != on[1]] == ["success" if k in on else "" for k in range(16) if k != on[1]]
    x0, y0, x1, y1 = ex.state.boxes()[on[1]].tolist()
    assert abs(ex.cx.value - (x0 + x1) / 2) < 1e-4 and abs(ex.w.value - (x1 - x0)) < 1e-4   # the controls show the clicked object

def test_moving_a_box_moves_the_ink(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    k = int(np.flatnonzero(ex.state.present().numpy())[0]); ex.obj.value = k
    full = ex.rendered[0].copy()
    ex.pres.value = False; rest = ex.rendered[0].copy(); ex.pres.value = True
    ink0 = centroid(full - rest)
    c0 = ex.state.boxes()[k].reshape(2, 2).mean(0).numpy()
    dx = 6.0 if ex.cx.value + 6 <= ex.cx.max else -6.0
    dy = 3.0 if ex.cy.value + 3 <= ex.cy.max else -3.0
    ex.cx.value = c0[0] + dx; ex.cy.value = c0[1] + dy
    np.testing.assert_allclose(ex.state.boxes()[k].reshape(2, 2).mean(0).numpy() - c0, [dx, dy], atol=1e-3)   # the box moved …
    shift = centroid(ex.rendered[0] - rest) - ink0
    assert np.abs(shift - [dx, dy]).max() < 0.6, shift                                                          # … and so did the ink

def test_swapping_appearances_swaps_the_digits_read(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    r0 = ex.reading; assert r0["outcome"] == "valid" and len(r0["labels"]) == 4
    on = [int(k) for k in np.flatnonzero(ex.state.present().numpy())]
    def digit_at(reading, k):
        c = ex.state.boxes()[k].reshape(2, 2).mean(0).numpy()
        b = np.asarray(reading["boxes"], float); cb = (b[:, :2] + b[:, 2:]) / 2
        return reading["labels"][int(np.abs(cb - c).max(1).argmin())]
    a, b = on[0], on[1]
    da, db = digit_at(r0, a), digit_at(r0, b); assert da != db
    ex.obj.value = a; ex.swap_with.value = b; ex.swap.click()
    r1 = ex.reading
    assert (digit_at(r1, a), digit_at(r1, b)) == (db, da)
    assert sorted(r1["labels"]) == sorted(r0["labels"])
    assert r1["text"] == read_scene(ex.rendered, "mnist4", ex.checker)["text"]

def test_resample_keeps_zg_and_temperature_zero_is_the_mode(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    z_g = ex.state.z_g.clone()
    ex.temperature.value = 0.0; ex.resample.click(); a = ex.rendered.copy(); ex.resample.click()
    assert np.array_equal(ex.rendered, a) and torch.equal(ex.state.z_g, z_g)
    ex.temperature.value = 1.0; ex.resample.click(); b = ex.rendered.copy(); ex.resample.click()
    assert np.abs(ex.rendered - b).max() > 0.1 and torch.equal(ex.state.z_g, z_g)

def test_interpolation_ends_at_scene_b(mnist, mnist_scenes):
    ex = Explorer(mnist, mnist_scenes)
    ex.other.value = 3; ex.mix.value = 1.0; end_b = ex.rendered.copy()
    ex.index.value = 3; ex.temperature.value = 0.0; ex.resample.click()          # scene 3 itself, z^s the mode of p(z^s|z^g_3)
    assert np.abs(ex.rendered - end_b).max() < 1e-5
    ex.index.value = 0; ex.mix.value = 0.5; half = ex.rendered.copy()
    assert np.abs(half - end_b).max() > 0.1

def test_arrow_explorer_reads_shapes_and_depth_sets_the_draw_order(arrow):
    ex = Explorer(arrow, "arrow", n_scenes=4)
    assert "shapes left→right" in ex.reading["text"] and ex.reading["outcome"] in ("valid", "invalid", "reject")
    on = np.flatnonzero(ex.state.present().numpy()); k = int(on[0]); ex.obj.value = k
    before = ex.rendered.copy()
    ex.pres.value = False
    assert np.abs(ex.rendered - before).max() > 0.05
    ex.pres.value = True
    assert np.abs(ex.rendered - before).max() < 1e-5
    b = ex.state.boxes()                                     # the depth slider changes which of two overlapping objects is in front
    ctr = lambda k: np.array([(b[k, 0] + b[k, 2]) / 2, (b[k, 1] + b[k, 3]) / 2])
    i, j = min(((int(i), int(j)) for i in on for j in on if i < j), key=lambda p: np.hypot(*(ctr(p[0]) - ctr(p[1]))))
    ex.obj.value = i                                         # move object i onto its nearest neighbour j (as far as its sliders go), 1.5x larger
    target = ctr(j)
    ex.w.value, ex.h.value = min(ex.w.max, 1.5 * (b[i, 2] - b[i, 0])), min(ex.h.max, 1.5 * (b[i, 3] - b[i, 1]))
    ex.cx.value = float(np.clip(target[0], ex.cx.min, ex.cx.max)); ex.cy.value = float(np.clip(target[1], ex.cy.min, ex.cy.max))
    before = ex.rendered.copy()
    back, front = (i, j) if ex.state.depth()[i] > ex.state.depth()[j] else (j, i)
    ex.obj.value = back; ex.depth.value = float(ex.state.depth()[front]) - 2
    assert abs(float(ex.state.depth()[back]) - ex.depth.value) < 1e-6
    d = np.abs(ex.rendered - before).max(0)
    inside = box_mask(ex, i, d.shape) | box_mask(ex, j, d.shape)
    assert d[inside].max() > 0.02 and d[~inside].max() < 1e-6

def test_bad_input_is_refused(mnist, arrow, mnist_scenes):
    with pytest.raises(ValueError, match="does not fit data set 'arrow'"): Explorer(mnist, "arrow", n_scenes=2)
    with pytest.raises(ValueError, match="unknown data set"): Explorer(mnist, "mnist5")
    ex = Explorer(mnist, mnist_scenes)
    with pytest.raises(ValueError, match="can centre its box only within"): ex.state.set_box(0, (120.0, 10.0), (10.0, 10.0))
    with pytest.raises(KeyError, match="no shipped model"): ExplorerApp(model="gnm_nothing")
    before = ex.rendered.copy()
    ex.index.value = len(mnist_scenes) + 5                               # a test scene that does not exist: said in the status line
    assert "test scene 13 does not exist" in ex.status.value and ex.error and np.array_equal(ex.rendered, before)
    ex.index.value = 1; assert ex.error is None and "not done" not in ex.status.value

@pytest.mark.slow
def test_browser_edit_changes_the_picture(tmp_path):
    spec = importlib.util.spec_from_file_location("explorer_browser", REPO/"scripts/explorer_browser.py")
    eb = importlib.util.module_from_spec(spec); spec.loader.exec_module(eb)
    for attempt in (1, 2):   # a page that times out (a kernel left idle, or Run All slowed by a loaded machine) gets one fresh retry
        try: r = eb.run(tmp_path/"explorer.png"); break
        except TimeoutError:
            if attempt == 2: raise
    assert (tmp_path/"explorer.png").stat().st_size > 10_000
    before, after = r["before"].astype(int), r["after"].astype(int)
    w = (before.shape[1] - 12) // 3
    assert np.abs(after[:, :w] - before[:, :w]).max() == 0              # the input panel is untouched …
    assert np.abs(after[:, -w:] - before[:, -w:]).max() > 100            # … the rendering lost an object
    assert r["status_before"] != r["status_after"] and "objects on" in r["status_after"]
    rgb = r["picked"][:, -w:].astype(int)                                # picking the Arrow model in the page shows a colour scene
    assert r["status_picked"].startswith("arrow") and (np.abs(rgb[..., 0] - rgb[..., 2]) > 20).mean() > 0.01
