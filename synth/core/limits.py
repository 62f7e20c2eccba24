"""Ranges shared by the configuration files and the command line (kept free of heavy imports)."""

SEED_MAX = 2**31 - 1  # seeds are 0 .. 2**31 - 1: what every random generator synth seeds accepts
