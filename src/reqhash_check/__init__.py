"""Check pip requirements files for hashes that `pip install --require-hashes` would reject."""

__version__ = "0.1.0"
