"""The conditional GAN's stages: training, fine-tuning to a sensor profile, and generating data sets."""
