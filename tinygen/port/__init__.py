"""Firmware images: port sources generated per board and bench, and the build."""
