"""Quantise and export models for microcontrollers and the Raspberry Pi (``synth export``, ``synth export-c``).

quantize.py (full-int8 TFLite) and sources.py, export_source.py, anomaly_source.py (the models
and their representative data), audit.py (ops vs the microcontroller interpreter), verify.py
(tflite-micro and LiteRT against the float model), arena.py (the arena probe), manifest.py (the
JSON manifest), bundle.py (the export folder); c_export.py and the standalone*/c_* modules write
C; commands.py is the two commands. Models are read back with synth.core.tflite_file, the one
.tflite reader.
"""
