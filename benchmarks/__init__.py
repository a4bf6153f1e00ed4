"""Benchmarks of the game's hot paths: feature extraction and ONNX inference on the bundled pack and models.

Run `python -m benchmarks --help` (or `make bench`). Every number is measured on this machine: warm-up first,
then several repeats, and the median is reported.
"""
