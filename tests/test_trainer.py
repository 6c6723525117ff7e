"""Slow, multi-process tests of `gnm_nb.trainer` on its toy model (the fast ones live in nbs/20_trainer.ipynb):
- data parallelism: 2 CPU processes (gloo, launched with torchrun) keep identical parameters and match one process with the combined batch;
- crash safety: a training process killed with SIGKILL after a checkpoint and then resumed matches an uninterrupted run.

This file is also the worker script the tests launch: `python tests/test_trainer.py '<json args>'`."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**{k: v for k, v in os.environ.items() if k != "IN_TEST"}, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "OMP_NUM_THREADS": "1"}
VOLATILE = ("steps_per_sec", "time")  # wall-clock fields of a metrics record


def worker(args: dict):
    "Train the toy model as described by `args` (also under torchrun) and save this rank's final parameters."
    import torch
    import torch.distributed as dist
    from gnm_nb.trainer import ToyVAE, ToyRectangles, TrainConfig, Trainer, init_distributed

    class SlowToyVAE(ToyVAE):  # same numbers, slower steps: gives the kill test time to strike between checkpoints
        def forward(self, x, step):
            time.sleep(args.get("delay", 0.0))
            return super().forward(x, step)

    torch.set_num_threads(1)
    rank, world, _ = init_distributed("cpu")
    torch.manual_seed(args.get("init_seed", 0))
    model = SlowToyVAE(stochastic=args.get("stochastic", True))
    data = ToyRectangles(args.get("n", 64), seed=1)
    Trainer(model, data, TrainConfig(**args["cfg"])).fit()
    out = Path(args["params_dir"]); out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / f"rank{rank}.pt")
    if world > 1: dist.destroy_process_group()


def _cmd(args: dict, nproc: int = 1) -> list:
    launcher = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                    f"--nproc_per_node={nproc}"]
    return launcher + [str(Path(__file__).resolve()), json.dumps(args)]


def _run(args: dict, nproc: int = 1):
    r = subprocess.run(_cmd(args, nproc), env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"training subprocess failed (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


def _metrics(out_dir: Path) -> list:
    return [json.loads(line) for line in (Path(out_dir) / "metrics.jsonl").read_text().splitlines()]


def _params(d: Path, rank: int = 0) -> dict:
    import torch
    return torch.load(Path(d) / f"rank{rank}.pt", weights_only=True)


if __name__ == "__main__":
    worker(json.loads(sys.argv[1]))
else:
    import pytest
    import torch
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))  # gnm_nb without `pip install -e .`

    @pytest.mark.slow
    def test_ddp_two_cpu_processes_match_single_process(tmp_path):
        cfg = dict(steps=6, batch_size=8, lr=1e-3, optimizer="rmsprop", log_every=1, ckpt_every=3, image_every=6, keep_last=5,
                   device="cpu", progress=False, seed=3)
        # the deterministic toy (posterior mean, no sampling noise): one step is a function of the batch alone
        ddp = dict(cfg=dict(cfg, out_dir=str(tmp_path / "ddp")), params_dir=str(tmp_path / "p_ddp"), stochastic=False)
        one = dict(cfg=dict(cfg, out_dir=str(tmp_path / "one")), params_dir=str(tmp_path / "p_one"), stochastic=False)
        _run(ddp, nproc=2)
        _run(one)
        r0, r1, single = _params(tmp_path / "p_ddp", 0), _params(tmp_path / "p_ddp", 1), _params(tmp_path / "p_one")
        from gnm_nb.trainer import ToyVAE
        torch.manual_seed(0); init = ToyVAE(stochastic=False).state_dict()  # what the workers started from
        moved = max((single[k] - init[k]).abs().max().item() for k in single)
        assert moved > 1e-3, "the parameters hardly moved: the comparison would be vacuous"
        for k in r0:
            assert torch.equal(r0[k], r1[k]), f"ranks disagree on {k}"
            torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-5, msg=lambda m: f"{k}: DDP vs single process: {m}")
        # only rank 0 wrote: one record per step, the same losses as the single process (averaged over the two ranks)
        m_ddp, m_one = _metrics(tmp_path / "ddp"), _metrics(tmp_path / "one")
        assert [r["step"] for r in m_ddp] == list(range(1, 7))
        for a, b in zip(m_ddp, m_one):
            for k in ("loss", "recon", "kl", "beta", "grad_norm"):
                assert a[k] == pytest.approx(b[k], rel=1e-4), (a["step"], k, a[k], b[k])
        names = sorted(p.name for p in (tmp_path / "ddp" / "checkpoints").iterdir())
        assert names == ["step_00000003.pt", "step_00000006.pt"], names
        assert sorted(p.name for p in (tmp_path / "ddp" / "images").iterdir()) == \
               ["step_00000006_boxes.png", "step_00000006_recon.png", "step_00000006_samples.png"]

    @pytest.mark.slow
    def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
        from gnm_nb.trainer import list_checkpoints
        cfg = dict(steps=40, batch_size=16, lr=2e-3, log_every=1, ckpt_every=10, image_every=0, keep_last=2, device="cpu",
                   progress=False, seed=5)
        # A: uninterrupted
        _run(dict(cfg=dict(cfg, out_dir=str(tmp_path / "A")), params_dir=str(tmp_path / "pA")))
        # B: slow steps; SIGKILL a few steps after the step-20 checkpoint, so the log holds steps the checkpoint lacks
        b = dict(cfg=dict(cfg, out_dir=str(tmp_path / "B")), params_dir=str(tmp_path / "pB"), delay=0.05)
        proc = subprocess.Popen(_cmd(b), env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        log, deadline = tmp_path / "B" / "metrics.jsonl", time.time() + 240
        try:
            while time.time() < deadline and proc.poll() is None:
                steps = [json.loads(l)["step"] for l in log.read_text().splitlines() if l.endswith("}")] if log.is_file() else []
                if steps and steps[-1] >= 23: break
                time.sleep(0.02)
            assert proc.poll() is None, f"the run ended before it could be killed:\n{proc.stderr.read()[-2000:]}"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None: os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        ck = [int(p.stem.split("_")[1]) for p in list_checkpoints(tmp_path / "B")]
        assert ck and 20 <= ck[-1] < 40, ck
        logged = _metrics(tmp_path / "B")[-1]["step"]
        assert logged > ck[-1], (logged, ck)  # the kill left log records beyond the last checkpoint
        # resume B to the end
        _run(dict(b, delay=0.0, cfg=dict(b["cfg"], resume=True)))
        mA, mB = _metrics(tmp_path / "A"), _metrics(tmp_path / "B")
        assert [r["step"] for r in mB] == list(range(1, 41))
        for a, r in zip(mA, mB):
            assert {k: v for k, v in a.items() if k not in VOLATILE} == pytest.approx({k: v for k, v in r.items() if k not in VOLATILE}, rel=1e-6)
        pA, pB = _params(tmp_path / "pA"), _params(tmp_path / "pB")
        for k in pA: torch.testing.assert_close(pA[k], pB[k], rtol=1e-6, atol=1e-7)
