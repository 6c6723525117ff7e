"""Fault injection: no run, card or result may quietly say something untrue (slow; `pytest --slow tests/test_reliability.py`).

Each test breaks something the way a user, a crash or a hostile file would, and checks that the user gets either the right
behaviour or a clear error before any work is lost:
- training: a new learning rate on resume is the one used, logged and recorded; a run directory is never wiped without
  `overwrite`; `grad_clip=nan` is refused; the NaN stop names only a checkpoint with sound weights; an unreadable newest
  checkpoint is skipped; a `SIGKILL` at random moments during checkpoint saves resumes bit-identically; a truncated newest
  checkpoint falls back; a pickle that would run code is never executed;
- data sets: a build killed with `SIGKILL` is cleaned up by the next build while a concurrent build survives, and two processes
  building the same data set at once end with one intact copy; an edited manifest count is refused;
- evaluation and release: arguments and the output path are checked before any work; a model trained on another data set
  is refused; release refuses an evaluation of other weights (by hash), an overwrite without `--force`, a name that leaves the
  output folder and a non-JSON `--eval`.

This file is also the worker script the tests launch: `python tests/test_reliability.py <toy|build> '<json args>'`."""
import json, os, random, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**{k: v for k, v in os.environ.items() if k != "IN_TEST"}, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "OMP_NUM_THREADS": "1"}
VOLATILE = ("steps_per_sec", "time")


def toy_worker(args: dict):
    "Train the toy VAE; with `slow_save`, every checkpoint is written in small pieces with pauses (a wide window for a kill)."
    import torch
    import gnm_nb.core as core
    from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer
    if args.get("slow_save"):
        def slow_write(path, data: bytes):
            with core.atomic_write(path, "wb") as f:
                for i in range(0, len(data), 8192): f.write(data[i:i + 8192]); f.flush(); time.sleep(args["slow_save"])
        core.atomic_write_bytes = slow_write
    torch.set_num_threads(1); torch.manual_seed(0)
    t = Trainer(ToyVAE(), ToyRectangles(64, seed=1), TrainConfig(**args["cfg"]))
    t.fit()
    out = Path(args["params"]); out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(t.model.state_dict(), out)


def build_worker(args: dict):
    "Generate MNIST-4 into `root`, each chunk of images delayed by `delay` seconds."
    import gnm_nb.mnist_scenes as ms
    from gnm_nb.datasets import generate_dataset
    orig = ms.make_mnist4
    def slow(indices, *a, **k):
        time.sleep(args["delay"]); return orig(indices, *a, **k)
    ms.make_mnist4 = slow
    print(generate_dataset("mnist4", root=args["root"], sizes={"train": args["n"]}, seed=args.get("seed", 0), chunk_size=args["chunk"],
                           progress=False), flush=True)


def _launch(mode: str, args: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), mode, json.dumps(args)], env=ENV, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen, timeout: float = 300) -> str:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"worker failed (exit {p.returncode}):\n{out[-2000:]}\n{err[-3000:]}"
    return out


def _kill(p: subprocess.Popen):
    if p.poll() is None: os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)


def _wait_for(cond, timeout: float, proc=None, what=""):
    end = time.time() + timeout
    while time.time() < end:
        if cond(): return
        if proc is not None and proc.poll() is not None: raise AssertionError(f"worker ended before {what}:\n{proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


if __name__ == "__main__":
    {"toy": toy_worker, "build": build_worker}[sys.argv[1]](json.loads(sys.argv[2]))
else:
    import warnings
    import pytest
    import torch
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    pytestmark = pytest.mark.slow

    @pytest.fixture(scope="module")
    def data_root(tmp_path_factory):
        return tmp_path_factory.mktemp("data")

    def gnm_run(out_dir, data_root, steps=2, **kw):
        "A tiny GNM run (cpu_mnist, batch 4, 16 scenes)."
        from gnm_nb.train import run_training
        torch.set_num_threads(1)
        return run_training(**{**dict(dataset="mnist4", preset="cpu_mnist", steps=steps, batch_size=4, out_dir=str(out_dir), log_every=1,
                                      ckpt_every=steps, image_every=0, data_size=16, data_root=str(data_root), progress=False, device="cpu"), **kw})

    def tiny_eval(model, out, **kw):
        from gnm_nb.evaluate import evaluate
        return evaluate(model, "mnist4", out, **{**dict(n_samples=4, metrics=("s_acc",), batch=4), **kw})

    def records(run): return [json.loads(l) for l in (Path(run) / "metrics.jsonl").read_text().splitlines()]

    # ---------------------------------------------------------------- training
    def test_resume_with_new_lr_trains_logs_and_records_it(tmp_path, data_root):
        from gnm_nb.core import load_checkpoint
        from gnm_nb.trainer import list_checkpoints
        from gnm_nb.release import release_model, card_markdown
        gnm_run(tmp_path / "run", data_root, steps=2, lr=1e-4)
        with pytest.warns(UserWarning, match="new rate applies from step 2"):
            t = gnm_run(tmp_path / "run", data_root, steps=3, lr=5e-3, resume=True)
        assert [g["lr"] for g in t.opt.param_groups] == [5e-3]                  # the optimiser trains with it
        assert [r["lr"] for r in records(tmp_path / "run")] == [1e-4, 1e-4, 5e-3]   # the log says what each step used
        ck = load_checkpoint(list_checkpoints(tmp_path / "run")[-1])["config"]
        assert ck["lr_history"] == [[0, 1e-4], [2, 5e-3]] and ck["train"]["lr"] == 5e-3
        card = release_model(tmp_path / "run", "mnist4", tmp_path / "ship")
        assert card["lr_history"] == [[0, 1e-4], [2, 5e-3]]
        assert "lr 0.0001 from step 0, 0.005 from step 2" in card_markdown(card)

    def test_resume_lr_changes_the_update_size():
        "RMSprop from the same restored state: the first update after resuming scales with the new rate, not the saved one."
        import tempfile
        from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer, collate_images
        d = Path(tempfile.mkdtemp()); data = ToyRectangles(64, seed=1)
        cfg = TrainConfig(steps=3, batch_size=16, lr=1e-4, log_every=1, ckpt_every=3, image_every=0, device="cpu", progress=False, out_dir=str(d))
        torch.manual_seed(0); Trainer(ToyVAE(stochastic=False), data, cfg).fit()
        moves = {}
        for lr in (1e-4, 1e-3):
            with warnings.catch_warnings(): warnings.simplefilter("ignore"); t = Trainer(ToyVAE(stochastic=False), data, cfg.replace(resume=True, lr=lr))
            th0 = torch.cat([p.detach().flatten() for p in t.model.parameters()])
            t.train_step(collate_images([data[i] for i in t.loader().batch_sampler.batch(3)]))
            moves[lr] = (torch.cat([p.detach().flatten() for p in t.model.parameters()]) - th0).norm().item()
        assert moves[1e-3] / moves[1e-4] == pytest.approx(10, rel=1e-3)

    def test_run_directory_is_never_wiped_without_overwrite(tmp_path, data_root, monkeypatch):
        from gnm_nb.trainer import list_checkpoints
        run = tmp_path / "run"
        gnm_run(run, data_root, steps=2)
        before = (run / "metrics.jsonl").read_text()
        import gnm_nb.train
        with monkeypatch.context() as m:   # refused before any work: the data set is not even opened
            m.setattr(gnm_nb.train, "load_scenes", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
            with pytest.raises(FileExistsError, match="resume=False; nothing was deleted"):
                gnm_run(run, data_root, steps=2)                    # forgot --resume
        assert (run / "metrics.jsonl").read_text() == before and len(list_checkpoints(run)) == 1
        for p in list_checkpoints(run): p.unlink()                 # died before its first checkpoint: only the log is left
        with pytest.raises(FileExistsError, match="holds no checkpoint to resume from"):
            gnm_run(run, data_root, steps=2, resume=True)
        assert (run / "metrics.jsonl").read_text() == before
        gnm_run(run, data_root, steps=1, overwrite=True)            # the explicit flag starts over
        assert [r["step"] for r in records(run)] == [1]
        # the command line refuses too (parsed as `python -m gnm_nb.train` parses it); papermill's parameters cell offers the flag
        from gnm_nb import train
        argv = ["--dataset", "mnist4", "--steps", "1", "--batch-size", "4", "--data-size", "16", "--data-root", str(data_root),
                "--out-dir", str(run), "--device", "cpu", "--image-every", "0"]
        with pytest.raises(FileExistsError, match="overwrite=True to delete it and start over"): train.main(argv)
        assert [x["step"] for x in records(run)] == [1]
        assert train.cli_parser().parse_args(argv + ["--overwrite", "True"]).overwrite is True
        import papermill
        params = papermill.inspect_notebook(str(ROOT / "nbs" / "80_train.ipynb"))
        assert params["overwrite"]["default"] == "False"

    def test_grad_clip_nan_is_refused(tmp_path, data_root, monkeypatch):
        import gnm_nb.train
        monkeypatch.setattr(gnm_nb.train, "load_scenes", lambda *a, **k: (_ for _ in ()).throw(AssertionError("work started")))
        with pytest.raises(ValueError, match="grad_clip must be a number"):
            gnm_run(tmp_path / "run", data_root, grad_clip=float("nan"))
        assert not (tmp_path / "run").exists()

    def test_nan_stop_names_only_a_sound_checkpoint(tmp_path):
        from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer, NonFiniteLossError, list_checkpoints, checkpoint_path
        class BlowUp(ToyVAE):   # weights explode at step 4 (checkpointed at step 6), the loss turns NaN at step 8
            def forward(self, x, step):
                if step == 4:
                    with torch.no_grad(): self.decoder[0].bias.fill_(1e6)
                out = super().forward(x, step)
                if step >= 8: out["loss"] = out["loss"] * float("nan")
                return out
        torch.manual_seed(0)
        t = Trainer(BlowUp(), ToyRectangles(64, seed=1), TrainConfig(steps=20, batch_size=16, ckpt_every=3, log_every=1, image_every=0,
                                                                     keep_last=5, device="cpu", progress=False, out_dir=str(tmp_path)))
        with pytest.raises(NonFiniteLossError) as e: t.fit()
        assert f"the last good checkpoint is {checkpoint_path(tmp_path, 3)}" in str(e.value), str(e.value)
        assert "step_00000006.pt (model weight decoder.0.bias reaches" in str(e.value)
        assert [p.name for p in list_checkpoints(tmp_path)] == ["step_00000003.pt"]
        assert Trainer(ToyVAE(), ToyRectangles(64, seed=1), t.cfg.replace(resume=True)).step == 3

    def _toy_cfg(out, **kw):
        return dict(dict(steps=12, batch_size=16, lr=2e-3, log_every=1, ckpt_every=3, image_every=0, keep_last=2, device="cpu",
                         progress=False, seed=5, out_dir=str(out)), **kw)

    def test_unreadable_or_unsafe_newest_checkpoint_falls_back(tmp_path, monkeypatch):
        import hashlib, io
        from gnm_nb.core import CKPT_MAGIC
        from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer, checkpoint_path
        data = ToyRectangles(64, seed=1)
        torch.manual_seed(0); Trainer(ToyVAE(), data, TrainConfig(**_toy_cfg(tmp_path / "r", steps=6))).fit()
        newest = checkpoint_path(tmp_path / "r", 6)
        # a pickle that would run code, under a valid header and hash
        class Boom:
            def __reduce__(self): return (os.system, (f"touch {tmp_path / 'pwned'}",))
        buf = io.BytesIO(); torch.save({"kind": "trainer", "config": None, "state": Boom()}, buf); payload = buf.getvalue()
        good = newest.read_bytes()
        newest.write_bytes(CKPT_MAGIC + hashlib.sha256(payload).hexdigest().encode() + len(payload).to_bytes(8, "little") + payload)
        with pytest.warns(RuntimeWarning, match="cannot be loaded safely"):
            t = Trainer(ToyVAE(), data, TrainConfig(**_toy_cfg(tmp_path / "r", steps=6, resume=True)))
        assert t.step == 3 and not (tmp_path / "pwned").exists()
        # unreadable (permissions, I/O error): injected, since this may run as root
        newest.write_bytes(good)   # (the resume above renamed the unsafe file to *.corrupt)
        real = Path.read_bytes
        def deny(self):
            if self.name == newest.name: raise PermissionError(13, "Permission denied", str(self))
            return real(self)
        monkeypatch.setattr(Path, "read_bytes", deny)
        with pytest.warns(RuntimeWarning, match="cannot read"):
            t = Trainer(ToyVAE(), data, TrainConfig(**_toy_cfg(tmp_path / "r", steps=6, resume=True)))
        assert t.step == 3

    def test_truncated_newest_checkpoint_falls_back(tmp_path):
        from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer, checkpoint_path
        data = ToyRectangles(64, seed=1)
        torch.manual_seed(0); Trainer(ToyVAE(), data, TrainConfig(**_toy_cfg(tmp_path, steps=6))).fit()
        p = checkpoint_path(tmp_path, 6); p.write_bytes(p.read_bytes()[:-100])
        with pytest.warns(RuntimeWarning, match="truncated"):
            t = Trainer(ToyVAE(), data, TrainConfig(**_toy_cfg(tmp_path, steps=6, resume=True)))
        assert t.resumed_from == checkpoint_path(tmp_path, 3)

    def test_random_sigkill_during_saves_resumes_bit_identically(tmp_path):
        from gnm_nb.trainer import list_checkpoints
        newest = lambda: int(list_checkpoints(run)[-1].stem.split("_")[1]) if list_checkpoints(run) else -1
        rng, kills, mid_save, run = random.Random(23), 0, 0, tmp_path / "B"
        args = {"cfg": _toy_cfg(run, ckpt_every=1, resume=True), "params": str(tmp_path / "pB.pt"), "slow_save": 0.02}
        for attempt in range(2):   # kill at a random moment after the run (re)started saving: almost all its time is spent in saves
            p = _launch("toy", args)
            try:
                start = newest()
                _wait_for(lambda: newest() > start or p.poll() is not None, 120, what="a new checkpoint")
                time.sleep(rng.uniform(0.0, 0.3))
            finally: _kill(p)
            kills += p.returncode == -signal.SIGKILL
            mid_save += bool(list((run / "checkpoints").glob(".step_*.tmp")))   # the kill cut a checkpoint write short
        assert 0 < newest() < 12 and mid_save >= 1, (newest(), mid_save)
        _finish(_launch("toy", dict(args, slow_save=0)))
        toy_worker({"cfg": _toy_cfg(tmp_path / "A", ckpt_every=1), "params": str(tmp_path / "pA.pt")})   # uninterrupted, in this process
        assert kills == 2, kills
        mA, mB = records(tmp_path / "A"), records(run)
        assert [r["step"] for r in mB] == list(range(1, 13))
        for a, b in zip(mA, mB): assert {k: v for k, v in a.items() if k not in VOLATILE} == {k: v for k, v in b.items() if k not in VOLATILE}
        pA, pB = torch.load(tmp_path / "pA.pt", weights_only=True), torch.load(tmp_path / "pB.pt", weights_only=True)
        for k in pA: assert torch.equal(pA[k], pB[k]), k

    # ---------------------------------------------------------------- data sets
    def test_killed_build_is_cleaned_up_and_concurrent_builds_are_safe(tmp_path):
        from gnm_nb.datasets import generate_dataset, check_dataset
        root = tmp_path / "data"
        tmps = lambda: sorted(root.glob(".*.tmp-*")) if root.is_dir() else []
        live = _launch("build", {"root": str(root), "n": 32, "chunk": 8, "delay": 5.0, "seed": 2})   # a slow build in progress
        try:
            _wait_for(lambda: len(tmps()) == 1 and (tmps()[0] / ".lock").exists(), 120, live, "the first build to start")
            victim = _launch("build", {"root": str(root), "n": 64, "chunk": 8, "delay": 30.0, "seed": 1})
            try: _wait_for(lambda: len(tmps()) == 2 and all((d / ".lock").exists() for d in tmps()), 120, victim, "the second build to start")
            finally: _kill(victim)
            assert victim.returncode == -signal.SIGKILL and len(tmps()) == 2     # what a kill -9 leaves behind
            with pytest.warns(UserWarning, match="removed 1 temporary"):   # the next build: the same data set as the live one
                mine = generate_dataset("mnist4", root=root, sizes={"train": 32}, seed=2, chunk_size=8, progress=False)
            assert check_dataset(mine) is None
            assert len(tmps()) == 1, tmps()                              # the killed build's directory is gone, the live one kept
            theirs = Path(_finish(live).strip().splitlines()[-1])
        finally: _kill(live)
        assert theirs == mine and check_dataset(mine) is None          # the slower build found ours complete and kept it
        assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []

    def test_edited_manifest_count_is_refused(tmp_path):
        from gnm_nb.datasets import generate_dataset, load_scenes, DatasetError
        d = generate_dataset("mnist4", root=tmp_path, sizes={"train": 8}, progress=False)
        man = json.loads((d / "manifest.json").read_text()); man["splits"]["train"]["count"] = 9
        (d / "manifest.json").write_text(json.dumps(man))
        with pytest.raises(DatasetError, match="has 9 images, its array holds 8"):
            load_scenes("mnist4", root=tmp_path, sizes={"train": 8}, progress=False)

    # ---------------------------------------------------------------- evaluation
    def test_evaluate_checks_everything_before_any_work(tmp_path, data_root, monkeypatch):
        import gnm_nb.evaluate as ev
        from gnm_nb.gnm import build_model, save_model
        torch.manual_seed(0); save_model(build_model("cpu_mnist"), tmp_path / "m.ckpt", info={"dataset": "mnist4"})
        def no_work(*a, **k): raise AssertionError("work started before the arguments were checked")
        monkeypatch.setattr(ev, "temperature_sweep", no_work)
        (tmp_path / "adir.json").mkdir()
        base = ["--checkpoint", str(tmp_path / "m.ckpt"), "--dataset", "mnist4", "--metrics", "s_acc", "--n-samples", "4"]
        for extra, err, msg in ((["--out", str(tmp_path / "r.txt")], ValueError, "must end in .json"),
                                (["--out", str(tmp_path / "adir.json")], IsADirectoryError, "is a directory"),
                                (["--out", str(tmp_path / "m.ckpt" / "r.json")], NotADirectoryError, "is not a directory"),
                                (["--out", str(tmp_path / "r.json"), "--batch", "0"], ValueError, "batch must be an int >= 1"),
                                (["--out", str(tmp_path / "r.json"), "--dataset", "mnist10"], ValueError, "trained on 'mnist4', not 'mnist10'")):
            with pytest.raises(err, match=msg): ev.main(base + extra)
        monkeypatch.undo()
        res = ev.main(base + ["--out", str(tmp_path / "r.json"), "--dataset", "mnist10", "--allow-other-dataset", "--batch", "4"])
        assert res["trained_on"] == "mnist4" and res["dataset"] == "mnist10" and res["s_acc"]["n"] == 4

    # ---------------------------------------------------------------- release
    def test_release_refuses_an_evaluation_of_another_run(tmp_path, data_root):
        from gnm_nb.release import release_model, update_card
        from gnm_nb.trainer import list_checkpoints
        from gnm_nb.gnm import load_model
        a, b = gnm_run(tmp_path / "a", data_root, seed=1), gnm_run(tmp_path / "b", data_root, seed=2)
        assert list_checkpoints(tmp_path / "a")[-1].name == list_checkpoints(tmp_path / "b")[-1].name   # same file names
        tiny_eval(load_model(list_checkpoints(tmp_path / "a")[-1]), tmp_path / "eval_a.json", info={"checkpoint": str(list_checkpoints(tmp_path / "a")[-1])})
        with pytest.raises(ValueError, match="measured other weights"):
            release_model(tmp_path / "b", "mnist4", tmp_path / "ship", eval_path=tmp_path / "eval_a.json")
        assert not (tmp_path / "ship").exists()
        card = release_model(tmp_path / "a", "mnist4", tmp_path / "ship", eval_path=tmp_path / "eval_a.json")
        assert card["metrics"]["s_acc_n"] == 4
        with pytest.raises(ValueError, match="not the shipped weights"):   # the fp32 run weights are not the shipped fp16 file
            update_card(tmp_path / "ship" / "gnm_mnist4.json", tmp_path / "eval_a.json")
        tiny_eval(load_model(tmp_path / "ship" / "gnm_mnist4.ckpt"), tmp_path / "eval_ship.json", n_samples=8)
        assert update_card(tmp_path / "ship" / "gnm_mnist4.json", tmp_path / "eval_ship.json")["metrics"]["s_acc_n"] == 8

    def test_release_never_overwrites_silently_and_stays_in_its_folder(tmp_path, data_root):
        from gnm_nb.release import main
        gnm_run(tmp_path / "run", data_root)
        ship = tmp_path / "ship"
        main(["--run", str(tmp_path / "run"), "--dataset", "mnist4", "--out", str(ship)])
        shipped = {p.name: p.read_bytes() for p in ship.iterdir()}
        gnm_run(tmp_path / "other", data_root, steps=1)
        with pytest.raises(FileExistsError, match="pass force=True"):
            main(["--run", str(tmp_path / "other"), "--dataset", "mnist4", "--out", str(ship)])
        assert {p.name: p.read_bytes() for p in ship.iterdir()} == shipped
        with pytest.warns(UserWarning, match="replacing the release 'gnm_mnist4'.*2 steps"):
            assert main(["--run", str(tmp_path / "other"), "--dataset", "mnist4", "--out", str(ship), "--force"])["steps"] == 1
        with pytest.raises(ValueError, match="plain file name"):
            main(["--run", str(tmp_path / "run"), "--dataset", "mnist4", "--out", str(ship), "--name", "../../escaped"])
        assert not list(tmp_path.parent.glob("escaped*")) and not list(tmp_path.glob("escaped*"))
        (tmp_path / "e.json").write_text("{not json")
        with pytest.raises(ValueError, match="is not JSON"):
            main(["--run", str(tmp_path / "run"), "--dataset", "mnist4", "--out", str(tmp_path / "s2"), "--eval", str(tmp_path / "e.json")])
