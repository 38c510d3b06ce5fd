"""An example third-party tramo plugin."""
