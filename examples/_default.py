"""The shipped model the examples use by default (found by name from any directory)."""
DEFAULT_MODEL = "Mo-s-nnp"
