"""Model builders, the conditional WGAN-GP, and model artefacts on disk."""
