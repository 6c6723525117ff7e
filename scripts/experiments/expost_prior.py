"""Experiment (80_train, session 6): would a better density model of z^g give valid samples?

Infers z^g ~ q(z^g|x) (all L steps, flattened: L x 32 numbers) for `--train-images` training scenes of a trained GNM, fits
Gaussian mixtures with full covariances to them (ex-post density estimation, as in Ghosh et al. 2020, "From variational to
deterministic autoencoders"), samples z^g from each mixture, renders the mode of p(z^s|z^g) from it and prints S-Acc of
those renderings next to two references: the model's own StructDRAW prior, and z^g of held-out posterior draws (what a
perfect prior would give). The mixtures' mean log-density on the fitted points shows when a mixture memorises them.
scikit-learn comes with mlxtend, a dependency of gnm_nb. Nothing is saved: this is a diagnostic.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/experiments/expost_prior.py --checkpoint checkpoints/gnm_mnist4.ckpt --dataset mnist4
"""
import argparse, time
import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from gnm_nb.core import seed_everything
from gnm_nb.evaluate import real_scenes, render_zs_mode, sample_images
from gnm_nb.gnm import load_model
from gnm_nb.s_acc import structure_accuracy

@torch.no_grad()
def posterior_zg(model, x, batch=100):
    "z^g ~ q(z^g|x) for every scene of `x`, [N, L, z_g_dim]."
    return torch.cat([model.nets["structdraw"](fx=model.nets["encoder"](x[i:i + batch]))["z_g"] for i in range(0, len(x), batch)])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True); ap.add_argument("--dataset", required=True)
    ap.add_argument("--train-images", type=int, default=5000); ap.add_argument("--samples", type=int, default=250)
    ap.add_argument("--components", type=int, nargs="+", default=[1, 10, 50, 200]); ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    t0 = time.time()
    model = load_model(a.checkpoint).eval()
    L, D = model.cfg.draw_steps, model.cfg.z_g_dim
    seed_everything(a.seed)
    z = posterior_zg(model, real_scenes(a.dataset, a.train_images, "train")[0])
    held = posterior_zg(model, real_scenes(a.dataset, a.samples, "val")[0])
    Z = z.flatten(1).double().numpy()
    s_acc = lambda imgs: structure_accuracy(imgs, a.dataset)["s_acc"]
    print(f"{len(Z)} posterior z^g of {Z.shape[1]} numbers inferred in {time.time() - t0:.0f} s")
    print(f"StructDRAW prior (the model):            S-Acc {s_acc(sample_images(model, a.samples)):.3f}")
    print(f"z^g of held-out scenes (a perfect prior): S-Acc {s_acc(render_zs_mode(model, held)):.3f}")
    for k in a.components:
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, max_iter=200, random_state=a.seed).fit(Z)
        zz = torch.from_numpy(gmm.sample(a.samples)[0]).float().view(-1, L, D)
        print(f"GMM, {k:4d} components:                   S-Acc {s_acc(render_zs_mode(model, zz)):.3f}   "
              f"mean log-density of the fitted z^g {gmm.score(Z):9.1f}   ({time.time() - t0:.0f} s)")

if __name__ == "__main__": main()
