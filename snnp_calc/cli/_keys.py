"""The options naming where data files keep their reference values (``snnp fit``, ``snnp eval``)."""
from ..dataset import FrameKeys

KEY_OPTIONS = {
    "energy_key": ("energy", "key of the total energy, eV (default: energy; e.g. REF_energy)"),
    "forces_key": ("forces", "key of the forces, eV/Å (default: forces; e.g. REF_forces, force)"),
    "stress_key": ("stress", "key of the stress, eV/Å³, ASE sign (default: stress)"),
    "virial_key": ("virial", "key of the virial W = -V stress, eV, instead of a stress (e.g. "
                             "virial, REF_virial)"),
    "config_type_key": ("config_type", "info key of the structure's group (default: "
                                       "config_type)"),
}


def add_key_options(parser):
    """Add ``--energy-key`` ... ``--config-type-key`` to an argparse parser."""
    for name, (_, text) in KEY_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=text)


def keys_of(settings):
    """The :class:`~snnp_calc.dataset.FrameKeys` of parsed options (a dict or an argparse namespace)."""
    get = settings.get if isinstance(settings, dict) else lambda k: getattr(settings, k, None)
    return FrameKeys(**{field: get(name) for name, (field, _) in KEY_OPTIONS.items()
                        if get(name) is not None})
