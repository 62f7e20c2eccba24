"""Quantise and export models for microcontrollers and the Raspberry Pi (``synth export``).

quantize.py (full-int8 TFLite) and sources.py (the models and their representative data),
audit.py (ops vs the microcontroller interpreter), verify.py (tflite-micro and LiteRT against
the float model, arena probe), manifest.py (the JSON manifest), bundle.py (the export folder).
"""
