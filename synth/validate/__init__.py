"""``synth validate``: the exported C on the host and on the target, against tflite-micro."""
