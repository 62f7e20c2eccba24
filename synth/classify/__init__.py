"""Activity classifiers: ST's models and synth's own, their preprocessing, training, and the
feedback a frozen classifier gives a generator during fine-tuning."""
