"""Generative Neurosymbolic Machines (Jiang & Ahn, NeurIPS 2020) as a literate nbdev book

Modules:

- `gnm_nb.config`: `GNMConfig`: every architectural number of GNM in one frozen object, with the paper presets (`paper_mnist`, `paper_arrow`, their 8-step variants) and a reduced CPU family.
- `gnm_nb.structdraw`: The global latent $z^g = (z^g_1,\dots,z^g_L)$ of GNM, drawn autoregressively onto a 4×4 feature canvas $f$ from which the symbolic map $z^s$ is predicted.
- `gnm_nb.symbolic_map`: One network predicts the distribution of the 4×4 symbolic map $z^s$ — from the image encoding (posterior) or from the StructDRAW canvas (prior) — and a sub-pixel decoder turns each $z^{what}$ into an object glimpse."""

__version__ = "0.0.1"
