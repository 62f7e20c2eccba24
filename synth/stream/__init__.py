"""Streaming sensor samples over serial links: frames, CSV lines, pacing, sources, live capture."""
