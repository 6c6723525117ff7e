"""Generative Neurosymbolic Machines (Jiang & Ahn, NeurIPS 2020) as a literate nbdev book

Modules:

- `gnm_nb.background`: q(z^b | x), p(z^b | z^g) and the background decoder (Arrow room only); then `build_gnm_networks`, which assembles every learned network of GNM, and the parameter counts of supp. Table 3.
- `gnm_nb.baselines.convdraw`: ConvDRAW (Gregor et al. 2016) on GNM's image encoding: StructDRAW's recurrent loop with *spatial* latents and a convolutional interaction network in place of the interaction MLP, then a sub-pixel decoder to pixels (supp. §4.2, Table 9).
- `gnm_nb.baselines.genesis`: The symbolic-only baseline of supp. Table 1 and Figs. 2–4: GENESIS (Engelcke et al., ICLR 2020) with the GNM supplement's changes (§4.2): a plain ELBO with β = 10 (MNIST) / 15 (Arrow) instead of GECO, a 3-layer spatial broadcast decoder, and a learning rate that starts high and is reset lower.
- `gnm_nb.baselines.space`: The representation baseline of supp. Table 2: SPACE's object-grid foreground (Lin et al., ICLR 2020) with **fixed priors**, built from GNM's own encoder, symbolic-map head, glimpse decoder and renderer, so that it differs from GNM only where the papers differ.
- `gnm_nb.baselines.vae`: A plain VAE on the same image encoder as GNM: one 128-d Gaussian latent for the whole scene, decoded by a sub-pixel CNN (supp. §4.2, Table 8).
- `gnm_nb.bench`: Seconds per training step, generation and importance-sampled log-likelihood of the paper configurations, peak memory, and a record of every speed lever we tried — measured by a benchmark that ships with the package: `python -m gnm_nb.bench`.
- `gnm_nb.config`: `GNMConfig`: every architectural number of GNM in one frozen object, with the paper presets (`paper_mnist`, `paper_arrow`, their 8-step variants) and a reduced CPU family.
- `gnm_nb.explore`: A JupyterLab widget over a trained GNM: infer a test scene (or sample one), then switch objects off, move and resize their boxes, change their depth, swap or resample their appearance, redraw z^s from p(z^s | z^g) at a temperature, or interpolate z^g between two scenes — GNM renders every edit at once and the structure checker says whether the rule holds.
- `gnm_nb.gnm`: Encoder → StructDRAW → symbolic map → rendering, the ELBO with its auxiliary terms (supp. eq. 1–5), and the API a researcher uses: `forward` (loss and every term), `infer`, `sample`, `resample_zs`, `render`, `log_likelihood`.
- `gnm_nb.models`: One entry point for every model of the book — GNM and its baselines: `build(preset)`, `save(model, path)`, `load(path)` and `PRESETS`, so that training, evaluation, release and figures treat all families alike.
- `gnm_nb.structdraw`: The global latent z^g = (z^g_1, …, z^g_L) of GNM, drawn autoregressively onto a 4×4 feature canvas $f$ from which the symbolic map $z^s$ is predicted.
- `gnm_nb.symbolic_map`: One network predicts the distribution of the 4×4 symbolic map $z^s$ — from the image encoding (posterior) or from the StructDRAW canvas (prior) — and a sub-pixel decoder turns each $z^{what}$ into an object glimpse."""

__version__ = "0.0.1"
