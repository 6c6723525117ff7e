"""Evaluation metrics (nbs/30-34): shipped checker weights, and the full-size validations that are too slow for the notebooks.

Fast: the checker weight files exist, verify (SHA-256 via load_checkpoint) and stay small.
Slow (`pytest --slow`): the S-Acc checkers on 1,000 real + 1,000 rule-breaking held-out scenes per data set, and the
D-Steps sanity checks with the `paper` protocol."""
import numpy as np
import pytest
import torch

from gnm_nb.metrics_mnist import (MNIST_DATASETS, load_mnist_checker, mnist_checker_path, validate_mnist_checker)


def test_shipped_checker_weights_verify_and_are_small():
    from gnm_nb.metrics_arrow import arrow_checker_path, load_arrow_checker
    paths = [mnist_checker_path(), arrow_checker_path()]
    for p in paths: assert p.is_file(), f"missing shipped weights {p}"
    assert sum(p.stat().st_size for p in paths) < 2_000_000
    reader, cfg, meta = load_mnist_checker(); assert meta["version"] == 1 and len(reader.readers) >= 1
    net, acfg, ameta = load_arrow_checker(); assert ameta["version"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("dataset", MNIST_DATASETS)
def test_mnist_checker_1000_real_1000_violating(dataset):
    torch.set_num_threads(1)
    v = validate_mnist_checker(dataset, 1000)
    print(dataset, v)
    assert v["valid_rate_real"] >= 0.97, v
    assert v["valid_rate_violating"] <= 0.05, v


@pytest.mark.slow
def test_arrow_checker_1000_real_1000_violating_and_robustness():
    """1,000 real and 1,000 rule-breaking scenes; 500 each with the camera 20 % lower / higher and the light 20 % dimmer / brighter;
    the 1,000 real ones blurred (sigma 1 px); an average room."""
    from gnm_nb.metrics_arrow import ROBUSTNESS_VARIANTS, validate_arrow_checker
    torch.set_num_threads(1)
    v = validate_arrow_checker(1000, workers=2)
    print("arrow", v)
    assert v["valid_rate_real"] >= 0.97, v
    assert v["valid_rate_violating"] <= 0.05, v
    for k in list(ROBUSTNESS_VARIANTS) + ["blur1"]: assert v[f"valid_rate_{k}"] >= 0.90, (k, v)
    assert v["average_room"] != "valid", v


@pytest.mark.slow
def test_dsteps_paper_protocol_sanity():
    "Paper protocol (batch 32+32, 500+500 held out); real vs real stays at chance for 2,000 steps, blur and noise are found fast."
    import torch.nn.functional as F
    from gnm_nb.metrics_dsteps import DStepsConfig, dsteps_run
    from gnm_nb.metrics_mnist import gaussian_blur
    from gnm_nb.mnist_scenes import make_mnist4
    torch.set_num_threads(1)
    real = torch.from_numpy(make_mnist4(np.arange(1500), seed=21, split="test")[0]).float() / 255
    copy = torch.from_numpy(make_mnist4(np.arange(1500), seed=22, split="test")[0]).float() / 255
    cfg = DStepsConfig.preset("paper")
    res = {"noise": dsteps_run(real, torch.rand_like(copy), 0, cfg),
           "blur": dsteps_run(real, gaussian_blur(copy, torch.full((len(copy),), 1.0)).clamp(0, 1), 0, cfg),
           "copy": dsteps_run(real, copy, 0, cfg.replace(max_steps=2000))}
    for k, r in res.items(): print(k, r["d_steps"], r["reached"], [round(a, 3) for _, a in r["history"]][-5:])
    assert not res["copy"]["reached"] and max(a for _, a in res["copy"]["history"]) < 0.7
    assert res["noise"]["reached"] and res["noise"]["d_steps"] <= 79
    assert res["blur"]["reached"] and res["blur"]["d_steps"] < 2000
