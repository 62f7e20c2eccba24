"""Fast, reproducible batched sampling from a trained generator.

Noise is drawn inside the compiled graph from TensorFlow's stateless normal generator, keyed
by (seed, batch index), and every batch has the same size (the last one is padded), so the same
seed, labels and batch size give the same bytes on every run while no noise crosses from
Python to the graph.
"""

from __future__ import annotations

import functools

import numpy as np


def sample_windows(generator, labels: np.ndarray, noise_dim: int, n_classes: int, seed: int = 0, batch_size: int = 8192) -> np.ndarray:
    """Generated windows (N, T, 3) float32 in g for class indices ``labels`` (N,)."""
    import tensorflow as tf

    labels = np.asarray(labels, dtype=np.int32)
    out = np.empty((len(labels), *generator.output_shape[1:]), np.float32)
    batch_size = max(1, min(batch_size, len(labels)))
    run = _compiled(generator, batch_size, noise_dim, n_classes)
    for index, start in enumerate(range(0, len(labels), batch_size)):
        chunk = labels[start : start + batch_size]
        padded = np.pad(chunk, (0, batch_size - len(chunk)))
        key = tf.constant([seed, index], tf.int64)
        out[start : start + len(chunk)] = run(tf.constant(padded), key).numpy()[: len(chunk)]
    return out


@functools.lru_cache(maxsize=8)
def _compiled(generator, batch_size: int, noise_dim: int, n_classes: int):
    """An XLA-compiled function (labels (B,) int32, key (2,) int64) -> windows (B, T, 3).

    Cached per generator object: it reads the generator's variables when it runs, so a model
    whose weights are reassigned (a node sampling several received generators) compiles once.
    """
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def run(labels, key):
        noise = tf.random.stateless_normal((batch_size, noise_dim), seed=key, alg="philox")
        return generator([noise, tf.one_hot(labels, n_classes)], training=False)

    return run
