"""Anomaly detection with autoencoders: centralised, local-only and federated (Flower).

The data path: rows (``synth.core.rows.Rows``: feature vectors from a CSV, N-BaIoT or
Edge-IIoTset, or accelerometer windows with injected sensor faults) -> a split into normal
training rows, held-out normal rows (the threshold) and labelled test rows -> an autoencoder
fitted on normal rows only -> a detector (model, scaling, threshold = mean + k x std of held-out normal
reconstruction errors) -> a report comparing local-only, federated and centralised training.
"""
