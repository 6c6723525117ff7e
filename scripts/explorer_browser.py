"""Browser check of the explorer: start JupyterLab (from ./.venv) on localhost, open nbs/91_explore.ipynb in headless Chromium
(Debian's `chromium` + `chromium-driver`, driven by selenium; no browser is downloaded), run all cells, save a screenshot of the
explorer, then switch the selected object off by clicking its checkbox in the page and check that the picture changes, and pick
the Arrow-room model in the model menu and check that its scene is shown.

    .venv/bin/python scripts/explorer_browser.py --out figures/explorer.png
"""
from __future__ import annotations
import argparse, base64, io, os, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import numpy as np

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "nbs/91_explore.ipynb"
COPY = "nbs/_explorer_browser_run.ipynb"   # the page runs a scratch copy (git-ignored), so JupyterLab's autosave never writes outputs into the book
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1500,2000"]

def free_port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def start_lab(port:int, token:str, runtime_dir:Path) -> subprocess.Popen:
    "JupyterLab of ./.venv serving the repository on 127.0.0.1:`port`; returns once its API answers."
    lab = REPO/".venv/bin/jupyter"
    if not lab.exists(): raise FileNotFoundError(f"{lab} is missing: run `bash scripts/setup.sh` first")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime_dir), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    p = subprocess.Popen([str(lab), "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                          "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={REPO}"],
                         env=env, stdout=subprocess.DEVNULL, stderr=open(runtime_dir/"lab.log", "wb"))
    for _ in range(240):
        if p.poll() is not None: raise RuntimeError(f"JupyterLab exited with {p.returncode}: {(runtime_dir/'lab.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2): return p
        except OSError: time.sleep(0.5)
    p.terminate(); raise TimeoutError("JupyterLab did not answer within 120 s")

def chromium(user_data_dir:Path):
    "Headless Debian Chromium through /usr/bin/chromedriver."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not Path(exe).exists(): raise FileNotFoundError(f"{exe} is missing: apt-get install -y chromium chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in CHROMIUM_FLAGS + [f"--user-data-dir={user_data_dir}"]: opts.add_argument(f)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)

def wait_for(cond, timeout:float, what:str, poll:float=0.5):
    "Poll `cond()` until it gives something other than None/False/empty (arrays count as given); raise after `timeout` s."
    t0, last = time.time(), None
    while time.time() - t0 < timeout:
        try:
            v = cond()
            if isinstance(v, np.ndarray) or (v is not None and v is not False and not (hasattr(v, "__len__") and len(v) == 0)): return v
        except Exception as e: last = e
        time.sleep(poll)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}" + (f" (last error: {last!r})" if last else ""))

PIXELS_JS = """
const img = document.querySelector('.gnm-explorer-view img, img.gnm-explorer-view');
if (!img || !img.complete || !img.naturalWidth) return null;
const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
c.getContext('2d').drawImage(img, 0, 0); return c.toDataURL('image/png');
"""

SCROLL_JS = """
const el = arguments[0], cell = el.closest('.jp-Cell'), p = el.closest('.jp-WindowedPanel-outer') || el.closest('.jp-Notebook');
for (const c of document.querySelectorAll('.jp-Notebook .jp-Cell')) if (c !== cell) c.style.display = 'none';
if (p) p.scrollTop += el.getBoundingClientRect().top - p.getBoundingClientRect().top - 8;
return el.getBoundingClientRect().top - (p ? p.getBoundingClientRect().top : 0);
"""

def view_pixels(driver) -> np.ndarray|None:
    "RGB pixels [H, W, 3] of the first explorer's picture as the page shows it (None before it is drawn)."
    from PIL import Image
    url = driver.execute_script(PIXELS_JS)
    if not url: return None
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))

def crop_to(driver, element) -> bytes:
    "PNG of the part of the window that `element` covers (JupyterLab scrolls inside its panels, so a window screenshot is cropped)."
    from PIL import Image
    x, y, w, h, dpr = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height, window.devicePixelRatio];", element)
    im = Image.open(io.BytesIO(driver.get_screenshot_as_png()))
    if y < 0 or y * dpr >= im.height: raise RuntimeError(f"the element is not in the window (top {y:.0f} px of {im.height / dpr:.0f})")
    box = [max(0, round(x * dpr)), max(0, round(y * dpr)), min(im.width, round((x + w) * dpr)), min(im.height, round((y + h) * dpr))]
    buf = io.BytesIO(); im.crop(box).convert("RGB").save(buf, format="png"); return buf.getvalue()

def click_menu(driver, menu:str, item:str):
    from selenium.webdriver.common.by import By
    wait_for(lambda: driver.find_element(By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel') and text()='{menu}']"), 60, f"menu {menu}").click()
    wait_for(lambda: driver.find_element(By.XPATH, f"//div[contains(@class,'lm-Menu-itemLabel') and text()='{item}']"), 30, f"menu item {item}").click()

def diagnosis(driver, runtime_dir:Path) -> str:
    "What the page and the server say when the notebook does not run: kernel status, cell prompts, the end of JupyterLab's log."
    from selenium.webdriver.common.by import By
    kernel = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator, .jp-KernelStatus, .jp-Toolbar-kernelStatus")]
    prompts = [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")]
    errors = [e.text[-1500:] for e in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
    log = (runtime_dir/"lab.log").read_bytes()[-2000:].decode(errors="replace") if (runtime_dir/"lab.log").is_file() else "(no log)"
    return f"kernel indicator {kernel}, cell prompts {prompts}, error outputs {errors or 'none'}, JupyterLab log tail:\n{log}"

def run(out:str|Path|None=None, # screenshot of the explorer (PNG); None: not saved
        timeout:float=900, # seconds for the notebook to run
       ) -> dict:
    "Run the explorer notebook in headless Chromium; return the picture before and after one edit made in the page."
    from selenium.webdriver.common.by import By
    tmp = Path(tempfile.mkdtemp(prefix="gnm_explorer_browser_"))
    port, token = free_port(), secrets.token_hex(16)
    shutil.copyfile(REPO/NOTEBOOK, REPO/COPY)
    lab = start_lab(port, token, tmp)
    driver = None
    try:
        driver = chromium(tmp/"chromium-profile")
        driver.get(f"http://127.0.0.1:{port}/lab/tree/{COPY}?token={token}")
        wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 180, "the notebook to open")
        time.sleep(3)
        def accept_dialogs():   # a kernel chooser may open late on a loaded machine: accept it whenever it shows
            for b in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"): b.click()
        accept_dialogs()
        def started():   # a cell is running ("[*]") or has run ("[1]")
            return any(any(ch.isdigit() or ch == "*" for ch in e.text) for e in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt"))
        for attempt in (1, 2, 3):   # on fresh clones "Run All" was seen to leave the kernel idle: ask again if no cell starts
            click_menu(driver, "Run", "Run All Cells")
            try: wait_for(lambda: accept_dialogs() or started(), 120, "a cell to start after Run All"); break
            except TimeoutError:
                if attempt == 3: raise TimeoutError("no cell started after three Run All clicks; " + diagnosis(driver, tmp)) from None
        try: wait_for(lambda: accept_dialogs() or len(driver.find_elements(By.CSS_SELECTOR, ".gnm-explorer-view")) >= 2, timeout, "both explorers to be displayed")
        except TimeoutError as e: raise TimeoutError(f"{e}; {diagnosis(driver, tmp)}") from None
        wait_for(lambda: not driver.find_elements(By.XPATH, "//div[contains(@class,'jp-InputPrompt') and contains(., '*')]")
                 and "[" in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")[-1].text, timeout, "every cell to finish")
        before = wait_for(lambda: view_pixels(driver), 60, "the explorer's picture")
        app = driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-model").find_element(By.XPATH, "ancestor::div[contains(@class,'jp-OutputArea-output')]")
        # for the screenshot only the explorer's cell stays shown (JupyterLab scrolls its notebook panel by itself otherwise)
        wait_for(lambda: 0 <= driver.execute_script(SCROLL_JS, app) < 40, 30, "the explorer to scroll to the top of the notebook", poll=1)
        shot = crop_to(driver, app)
        if out is not None:
            from gnm_nb.core import atomic_write_bytes
            atomic_write_bytes(out, shot)
        status_before = driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-status").text
        driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-pres input[type=checkbox]").click()
        after = wait_for(lambda: (lambda p: p if p is not None and (p.shape != before.shape or (p != before).any()) else None)(view_pixels(driver)),
                         60, "the picture to change after the click")
        status_after = wait_for(lambda: (lambda s: s if s != status_before else None)(driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-status").text),
                                30, "the status line to change")
        from selenium.webdriver.support.ui import Select
        Select(driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-model select")).select_by_visible_text("gnm_arrow (arrow)")
        picked = wait_for(lambda: (lambda p: p if p is not None and p.shape == before.shape and (p != after).any() else None)(view_pixels(driver)),
                          120, "the picture to change after picking the Arrow model")
        status_picked = driver.find_element(By.CSS_SELECTOR, ".gnm-explorer-status").text
        return {"before": before, "after": after, "picked": picked, "screenshot": shot, "status_before": status_before,
                "status_after": status_after, "status_picked": status_picked}
    finally:
        if driver is not None: driver.quit()
        lab.terminate()
        try: lab.wait(30)
        except subprocess.TimeoutExpired: lab.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        (REPO/COPY).unlink(missing_ok=True)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO/"figures/explorer.png"), help="where to save the screenshot")
    a = ap.parse_args(argv)
    r = run(a.out)
    changed = (r["before"] != r["after"]).any(-1)
    print(f"screenshot: {a.out} ({len(r['screenshot'])} bytes); picture {r['before'].shape[1]}x{r['before'].shape[0]} px, "
          f"{int(changed.sum())} px changed by the click")
    print("status before:", r["status_before"]); print("status after: ", r["status_after"])
    print("after picking gnm_arrow:", r["status_picked"])

if __name__ == "__main__": main()
