"""Experiment (80_train, session 4): is the StructDRAW prior p(z^g) merely behind its posterior?

Freezes a trained GNM, caches the decoder states h_dec,l-1 and the posterior q(z^g_l|x) along posterior trajectories of
`--train-images` training scenes, and refits only the prior head MLP^int_dec to minimise KL(q||p) on them (the ELBO's z^g
term with everything else fixed). Prints the KL on validation scenes and S-Acc of prior samples before and after.
The refit model is not saved: this is a diagnostic.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/experiments/prior_refit.py --checkpoint checkpoints/gnm_mnist4.ckpt --dataset mnist4
"""
import argparse, copy, time
import numpy as np
import torch
from gnm_nb.core import seed_everything
from gnm_nb.distributions import kl_normal
from gnm_nb.evaluate import real_scenes, sample_images
from gnm_nb.gnm import load_model
from gnm_nb.s_acc import check_scenes
from gnm_nb.structdraw import _gaussian_params
from gnm_nb.distributions import normal_rsample as _rsample

@torch.no_grad()
def posterior_states(model, x, batch=50):
    "Decoder states before each step [N, L, D, G, G] and posterior (mu, std) [N, L, 2, z] along sampled posterior trajectories."
    sd, c = model.nets["structdraw"], model.nets["structdraw"].cfg
    hs_all, qs_all = [], []
    for i in range(0, len(x), batch):
        fx = model.nets["encoder"](x[i:i + batch]); B = fx.shape[0]
        h_dec, c_dec = sd.dec_rnn.init_state(B); h_enc, c_enc = sd.enc_rnn.init_state(B)
        f = fx.new_zeros(B, c.draw_channels, c.grid, c.grid); hs, qs = [], []
        for _ in range(c.draw_steps):
            hs.append(h_dec)
            h_enc, c_enc = sd.enc_rnn(torch.cat([fx, fx - f, h_dec], 1), (h_enc, c_enc))
            q_mu, q_std = _gaussian_params(sd.post_net, h_enc); qs.append(torch.stack([q_mu, q_std], 1))
            d = sd.g_decoder(_rsample(q_mu, q_std)).view(B, -1, c.grid, c.grid)
            h_dec, c_dec = sd.dec_rnn(torch.cat([d, f], 1), (h_dec, c_dec))
            f = f + sd.canvas(h_dec)
        hs_all.append(torch.stack(hs, 1)); qs_all.append(torch.stack(qs, 1))
    return torch.cat(hs_all), torch.cat(qs_all)

def kl_g(prior_net, h, q):
    "KL(q(z^g|x) || p(z^g)) per scene, summed over steps and dimensions."
    N, L = h.shape[:2]
    mu, std = _gaussian_params(prior_net, h.flatten(0, 1))
    return kl_normal(q[:, :, 0].flatten(0, 1), q[:, :, 1].flatten(0, 1), mu, std).sum(-1).view(N, L).sum(1)

def s_acc(model, dataset, n, seed):
    seed_everything(seed)
    return float(np.mean([r["outcome"] == "valid" for r in check_scenes(sample_images(model, n), dataset)]))

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True); p.add_argument("--dataset", required=True)
    p.add_argument("--train-images", type=int, default=10000); p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--samples", type=int, default=200)
    a = p.parse_args()
    torch.set_num_threads(1); seed_everything(0)
    m = load_model(a.checkpoint).eval(); net = m.nets["structdraw"].prior_net
    xtr, _ = real_scenes(a.dataset, a.train_images, "train"); xva, _ = real_scenes(a.dataset, 500, "val")
    t = time.time(); htr, qtr = posterior_states(m, xtr); hva, qva = posterior_states(m, xva)
    print(f"cached {len(htr)} + {len(hva)} trajectories in {time.time() - t:.0f} s")
    with torch.no_grad(): print(f"before: KL(q||p) train {kl_g(net, htr, qtr).mean():.2f}, val {kl_g(net, hva, qva).mean():.2f} nats")
    print(f"before: S-Acc {s_acc(m, a.dataset, a.samples, 0):.3f} ({a.samples} samples, seed 0)")
    for prm in m.parameters(): prm.requires_grad_(False)
    for prm in net.parameters(): prm.requires_grad_(True)
    opt, best = torch.optim.Adam(net.parameters(), lr=a.lr), (float("inf"), None)
    for ep in range(a.epochs):
        for idx in torch.randperm(len(htr)).split(128):
            loss = kl_g(net, htr[idx], qtr[idx]).mean(); opt.zero_grad(); loss.backward(); opt.step()
        with torch.no_grad(): v = float(kl_g(net, hva, qva).mean())
        if v < best[0]: best = (v, copy.deepcopy(net.state_dict()))
        print(f"epoch {ep}: val KL {v:.2f}")
    net.load_state_dict(best[1])
    print(f"after: val KL {best[0]:.2f}; S-Acc seed 0 {s_acc(m, a.dataset, a.samples, 0):.3f}, seed 1 {s_acc(m, a.dataset, a.samples, 1):.3f}")

if __name__ == "__main__": main()
