"""DFT reference from Elastic frames (snnp_calc.validation.reference).

Two kinds of check: a known answer (strain series labelled by EMT, some
frames rotated, one of another cell size with its own energy zero, must give
back EMT's own elastic constants and lattice parameter), and the README's
"DFT (data)" rows for the Zuo et al. data sets.
"""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.units import GPa
from scipy.spatial.transform import Rotation

from snnp_calc.dataset import Frame, read_frames
from snnp_calc.validation.common import attach, strained
from snnp_calc.validation.elastic import elastic_constants
from snnp_calc.validation.eos import equilibrium
from snnp_calc.validation.lattice import Crystal
from snnp_calc.validation.reference import reference_from_data, strain_and_stress

from .test_elastic import voigt_strain


def labelled(atoms, config_type="Elastic", energy_shift=0.0):
    """A Frame of ``atoms`` labelled by its calculator (energy shifted per atom)."""
    energy = atoms.get_potential_energy() + energy_shift * len(atoms)
    return Frame(atoms.copy(), energy, atoms.get_forces(), atoms.get_stress(), config_type,
                 "synthetic")


@pytest.fixture(scope="module")
def emt_series():
    """EMT Cu strain series about a cell 0.3 % larger than EMT's a0, and EMT's answers."""
    a0 = equilibrium(EMT, Crystal("Cu", "fcc", 3.6))["a0"]
    reference = Crystal("Cu", "fcc", 1.003 * a0)
    rotations = Rotation.random(40, random_state=3).as_matrix()
    frames = []
    for j in range(6):
        # small strains: the linear fit's anharmonic bias (∝ ε²) stays below 0.3 %
        for h in (-0.01, -0.005, 0.005, 0.01, 0.08):
            # shears are engineering strains: 2 × the tensor component
            cell = strained(attach(reference.supercell(2), EMT()),
                            voigt_strain(j, h if j < 3 else 2 * h))
            if len(frames) % 3 == 0:
                rot = rotations[len(frames)]
                cell.set_cell(cell.cell.array @ rot.T, scale_atoms=True)
            frames.append(labelled(cell))
    frames.append(labelled(attach(reference.supercell(2), EMT())))
    # another cell size, computed "with another k-mesh": its own energy zero
    frames.append(labelled(attach(reference.conventional(), EMT()), energy_shift=0.01))
    frames.append(labelled(attach(reference.supercell(2), EMT()), config_type="AIMD-NVT"))
    truth = elastic_constants(EMT(), reference)
    return frames, a0, reference, truth


def test_strain_inference_undoes_rotations_and_supercells():
    ref = np.diag([3.6, 3.6, 3.6])
    eps = np.array([[0.01, 0.004, 0], [0.004, -0.02, 0.003], [0, 0.003, 0.005]])
    rot = Rotation.from_euler("zyx", [30, 20, 10], degrees=True).as_matrix()
    cell = (ref @ (np.eye(3) + eps)) @ rot.T
    strain, none = strain_and_stress(cell, None, ref)
    assert none is None
    np.testing.assert_allclose(strain, [0.01, -0.02, 0.005, 0.006, 0.0, 0.008], atol=1e-12)
    # a stress seen in the rotated frame comes back in the reference frame, in GPa
    stress = np.array([1.0, 2.0, 3.0, 0.5, -0.2, 0.1])
    tensor = np.array([[1.0, 0.1, -0.2], [0.1, 2.0, 0.5], [-0.2, 0.5, 3.0]])
    rotated = rot @ tensor @ rot.T
    voigt = np.array([rotated[0, 0], rotated[1, 1], rotated[2, 2],
                      rotated[1, 2], rotated[0, 2], rotated[0, 1]])
    _, back = strain_and_stress(cell, voigt, ref)
    np.testing.assert_allclose(back, stress / GPa, rtol=1e-12)


def test_known_answer_from_emt_frames(emt_series):
    frames, a0, reference, truth = emt_series
    result = reference_from_data(frames)
    assert (result["symbol"], result["lattice"]) == ("Cu", "fcc")
    # 6 modes × 4 strains in the window + the two unstrained cells; 8 % and AIMD are out
    assert result["n_frames"] == 26 and result["n_elastic"] == 32
    assert result["a_reference"] == pytest.approx(reference.a, rel=1e-12)
    for name in ("C11", "C12", "C44"):
        assert result[name] == pytest.approx(truth[name], rel=3e-3), name
    assert result["bulk_modulus"] == pytest.approx(truth["bulk_modulus"], rel=3e-3)
    # the linearised zero of stress and minimum of energy: EMT's a0 (0.3 % away) to 1e-4
    assert result["a0_stress"] == pytest.approx(a0, abs=2e-4)
    assert result["a0_energy"] == pytest.approx(a0, abs=2e-4)
    # energies determine C11 and C44 (consistent with the stresses), not C12
    assert result["energy"]["C11"] == pytest.approx(truth["C11"], rel=0.02)
    assert result["energy"]["C44"] == pytest.approx(truth["C44"], rel=0.02)
    assert result["energy"]["C12"] is None and result["energy"]["bulk_modulus"] is None
    assert result["shear_ions"] == "clamped"


def test_mo_data_against_readme(zuo_dir):
    # README "DFT (data)": a0 3.170, B 270, C11 480, C12 164, C44 108
    result = reference_from_data(zuo_dir / "Mo" / "train.xyz")
    assert result["lattice"] == "bcc"
    assert result["a0_energy"] == pytest.approx(3.170, abs=0.002)
    assert result["a0_stress"] == pytest.approx(3.170, abs=0.002)
    assert result["C11"] == pytest.approx(480, rel=0.02)
    assert result["C12"] == pytest.approx(164, rel=0.02)
    assert result["C44"] == pytest.approx(108, rel=0.02)
    assert result["bulk_modulus"] == pytest.approx(270, rel=0.02)
    assert result["energy"]["C11"] == pytest.approx(480, rel=0.03)


def test_ni_data_against_readme(zuo_dir):
    # README: a0 3.522 (E min), 3.506 (σ = 0), B 206, C11 286, C12 166, C44 133-138
    result = reference_from_data(zuo_dir / "Ni" / "train.xyz")
    assert result["lattice"] == "fcc"
    assert result["a0_energy"] == pytest.approx(3.522, abs=0.002)
    assert result["a0_stress"] == pytest.approx(3.506, abs=0.002)
    assert result["C11"] == pytest.approx(286, rel=0.02)
    assert result["C12"] == pytest.approx(166, rel=0.02)
    assert 131 <= result["C44"] <= 140
    assert result["bulk_modulus"] == pytest.approx(206, rel=0.02)


def test_ge_data_against_readme(zuo_dir):
    # README: a0 5.783-5.786, B 64, C11 108, C12 42, clamped-ion C44 76
    frames = read_frames(zuo_dir / "Ge" / "train.xyz")
    result = reference_from_data(frames, lattice="diamond")
    assert 5.780 <= result["a0_energy"] <= 5.789
    assert 5.780 <= result["a0_stress"] <= 5.789
    assert result["C11"] == pytest.approx(108, rel=0.02)
    assert result["C12"] == pytest.approx(42, rel=0.03)
    assert result["C44"] == pytest.approx(76, rel=0.02)
    assert result["shear_ions"] == "clamped"
    assert result["bulk_modulus"] == pytest.approx(64, rel=0.02)


def test_missing_or_unusable_reference_raises(emt_series, zuo_dir):
    frames, *_ = emt_series
    not_elastic = [f for f in frames if f.config_type != "Elastic"]
    with pytest.raises(ValueError, match="no 'Elastic' frames"):
        reference_from_data(not_elastic)
    with pytest.raises(ValueError, match="no Elastic frames of Cu in the bcc lattice"):
        reference_from_data(frames, lattice="bcc")
    with pytest.raises(ValueError, match="strain; need 3"):
        reference_from_data(frames, max_strain=1e-4)
    mixed = frames + [labelled(attach(Crystal("Ni", "fcc", 3.52).conventional(), EMT()))]
    with pytest.raises(ValueError, match="name the element"):
        reference_from_data(mixed)
    assert reference_from_data(mixed, symbol="Cu")["symbol"] == "Cu"
