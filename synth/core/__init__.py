"""What every stage shares: errors, the config, sensor profiles, windows and rows, unit transforms,
atomic output, run files, plots, the .tflite reader; it imports nothing else of synth."""
