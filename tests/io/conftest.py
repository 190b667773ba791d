"""Fixtures of the model-file tests: a small model, its document, and the rejection check."""
import pytest

from snnp_calc.errors import ModelFileError
from snnp_calc.io import json_model
from snnp_calc.model.initial import initial_model


def small_mlp_model():
    """A two-species s-NNP with few knots: small documents to mutate."""
    return initial_model(["Mo", "Ni"], 5.0, n_rho=2, n_triplet=2, hidden=(3,), n_knots=5,
                         n_knots_angular=4, noise=0.1, seed=3)


@pytest.fixture(scope="module")
def mlp_doc():
    return json_model.to_dict(small_mlp_model())


@pytest.fixture
def check_rejected(tmp_path):
    """Write ``text`` to a file; reading it must raise, naming the file and key ``path``."""
    def check(text, path):
        file = tmp_path / "Mo.json"
        file.write_text(text, encoding="utf-8")
        with pytest.raises(ModelFileError) as info:
            json_model.read_json(file)
        message = str(info.value)
        assert message.startswith(f"{file}: "), message
        assert f": {path}: " in message, message
        return message
    return check


# key paths into a model document: the second rho spline, the first layer of species 0
RHO01 = ("filters", "rho", 0, 1)
W00 = ("readout", "weights", 0, 0)


def set_key(d, keys, value):
    for key in keys[:-1]:
        d = d[key]
    d[keys[-1]] = value
