"""synth: synthetic accelerometer data shaped like a specific microcontroller sensor."""

__version__ = "0.1.0"
