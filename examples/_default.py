"""Where the examples find the shipped default model."""
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "data" / "Mo-s-nnp.json"
