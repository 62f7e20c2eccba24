"""Quantise and export models for microcontrollers and the Raspberry Pi (``synth export``, ``synth export-c``).

quantize.py (full-int8 TFLite) and sources.py (the models and their representative data),
tflite_file.py (the one .tflite reader: checked loading, the graph for C, the summary for the
audit), audit.py (ops vs the microcontroller interpreter), verify.py (tflite-micro and LiteRT
against the float model, arena probe), manifest.py (the JSON manifest), bundle.py (the export
folder); c_export.py and the standalone*/c_* modules write C.
"""
