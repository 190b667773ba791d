"""The energy kernels: species-pair indexing (the physics is tested through evaluate and LAMMPS)."""
from snnp_calc.kernels.energy import pair_index


def test_pair_index_matches_lammps_order():
    S = 3
    order = [(b, c) for b in range(S) for c in range(b, S)]
    assert [pair_index(b, c, S) for b, c in order] == list(range(len(order)))
    assert pair_index(2, 0, S) == pair_index(0, 2, S)
