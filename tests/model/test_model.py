"""The model: validation, flat parameter vector, species selection."""
import numpy as np
import pytest

from snnp_calc.io import read_model
from snnp_calc.kernels.readout import readout_zero
from snnp_calc.kernels.spline import GROUP_F, GROUP_G, GROUP_LEGENDRE, GROUP_RHO, group_index
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import MLPReadout, Model, select_species


def test_vector_round_trip(any_model):
    v = any_model.to_vector()
    again = any_model.from_vector(v)
    assert again.equals(any_model)
    np.testing.assert_array_equal(again.to_vector(), v)


def test_from_vector_changes_only_free_parameters(snnp_model):
    v = snnp_model.to_vector()
    changed = snnp_model.from_vector(v + 1.0)
    for old, new in zip(snnp_model.splines, changed.splines):
        fixed = old.fixed
        np.testing.assert_array_equal(new.params[fixed], old.params[fixed])
        np.testing.assert_array_equal(new.params[~fixed], old.params[~fixed] + 1.0)
    np.testing.assert_array_equal(changed.e0, snnp_model.e0 + 1.0)


def test_vector_length_is_checked(snnp_model):
    with pytest.raises(ValueError, match="expected a vector of"):
        snnp_model.from_vector(np.zeros(3))


def test_radial_splines_vanish_at_their_last_knot(snnp_model):
    """rho and phi end at the cutoff, f at the shorter triplet range; all with y = y' = 0."""
    for s in snnp_model.radial_splines:
        assert s.y[-1] == 0.0 and s.dN == 0.0
        assert s.fixed[s.n_knots - 1] and s.fixed[-1]
    for s in [s for row in snnp_model.rho for s in row] + list(snnp_model.phi):
        assert s.x1 == snnp_model.cutoff
    assert {s.x1 for row in snnp_model.f for s in row} == {3.9} and snnp_model.cutoff == 4.6


def test_model_is_immutable(snnp_model):
    with pytest.raises(AttributeError):
        snnp_model.e0 = np.ones(2)
    with pytest.raises(ValueError):
        snnp_model.e0[0] = 1.0


def test_cached_constants_belong_to_their_model(snnp_model):
    changed = snnp_model.from_vector(snnp_model.to_vector() + 0.01)
    for model in (snnp_model, changed):
        np.testing.assert_array_equal(model.readout_zero,
                                      readout_zero(model.kernel_model._replace(R0_e=0 * model.e0)))
        assert model.cutoff == max(s.x1 for s in model.radial_splines)
    assert not np.array_equal(changed.readout_zero, snnp_model.readout_zero)
    with pytest.raises(AttributeError):
        snnp_model.cutoff = 1.0


def test_species_indices(snnp_model):
    assert snnp_model.species == ("Mo", "Ni")
    np.testing.assert_array_equal(snnp_model.species_indices([28, 42, 42]), [1, 0, 0])
    assert snnp_model.species_indices(np.zeros(0, int)).shape == (0,)
    for numbers, named in (([42, 29], "Cu"), ([0, 42], "X"), ([42, -14], "Z=-14"),
                           ([200, 28], "Z=200")):
        with pytest.raises(ValueError, match=named):
            snnp_model.species_indices(numbers)


def test_select_species_reorders_and_restricts(snnp_model):
    swapped = select_species(snnp_model, ["Ni", "Mo"])
    assert swapped.species == ("Ni", "Mo")
    assert swapped.rho[0][0].equals(snnp_model.rho[0][1])
    assert swapped.g[0][0].equals(snnp_model.g[0][2])
    assert select_species(swapped, ["Mo", "Ni"]).equals(snnp_model)
    with pytest.raises(ValueError, match="not a set of distinct species"):
        select_species(snnp_model, ["Cu"])


@pytest.mark.parametrize("change, message", [
    (dict(species=("Mo", "Mo")), "duplicate"),
    (dict(species=("Xx", "Ni")), "unknown element"),
    (dict(e0=[0.0]), "e0 must hold 2"),
    (dict(e0=[0.0, np.nan]), "e0 must hold 2"),
    (dict(phi=()), None),
])
def test_model_validation(snnp_model, change, message):
    fields = dict(species=snnp_model.species, rho=snnp_model.rho, f=snnp_model.f,
                  g=snnp_model.g, phi=snnp_model.phi, readout=snnp_model.readout,
                  e0=snnp_model.e0)
    fields.update(change)
    if message is None:
        assert Model(**fields).phi == ()
    else:
        with pytest.raises(ValueError, match=message):
            Model(**fields)


def test_mlp_readout_validation():
    with pytest.raises(ValueError, match="unknown activation"):
        MLPReadout("relu", (), [[np.zeros((1, 2)), np.zeros(1)]], np.zeros((1, 2)),
                   np.ones((1, 2)))
    with pytest.raises(ValueError, match="weight shape"):
        MLPReadout("tanh", (), [[np.zeros((1, 3)), np.zeros(1)]], np.zeros((1, 2)),
                   np.ones((1, 2)))
    with pytest.raises(ValueError, match="scales finite and positive"):
        MLPReadout("tanh", (), [[np.zeros((1, 2)), np.zeros(1)]], np.zeros((1, 2)),
                   np.zeros((1, 2)))


def test_spline_readout_needs_one_filter_each():
    with pytest.raises(ValueError, match="exactly one pair and one"):
        smeam = initial_model(["Mo"], 4.0, n_rho=1, n_triplet=1, readout="spline")
        Model(smeam.species, smeam.rho * 2, smeam.f, smeam.g, smeam.phi, smeam.readout,
              smeam.e0)


def test_kernel_groups_are_the_filters_of_one_neighbour_species(any_model):
    # group_index's order; a model from initial_model gives a group's filters one set of knots
    for model in (any_model, read_model("Mo-s-nnp")):
        km, S = model.kernel_model, model.n_species
        P = S * (S + 1) // 2
        families = ((GROUP_RHO, 0, S, km.n_rho, S), (GROUP_F, km.base_f, S, km.n_triplet, S),
                    (GROUP_G, km.base_g, P, km.n_triplet, P),
                    (GROUP_LEGENDRE, km.base_l, S, km.n_legendre, S))
        for family, base, n, K, stride in families:
            for b in range(n):
                g = group_index(family, b, S)
                np.testing.assert_array_equal(km.group_ig[g, :3], [base + b, stride, K])
                assert km.group_ig[g, 3] == (K > 0)
