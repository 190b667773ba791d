"""Numba kernels: the s-NNP energy, forces, virials and the loss gradient on plain arrays.

The kernels see contiguous NumPy arrays grouped in the named tuples of
:mod:`snnp_calc.kernels.layout`, never ASE objects, dicts or model classes.
Array names end in a suffix per axis, with one meaning each, here and in the
layers above:

=====  ==============================================================
``_n``  atoms
``_p``  directed pairs i -> j, sorted by i (matscipy ``neighbour_list``)
``_t``  triplets (j, l) of one atom, j > l
``_c``  Cartesian components (3); ``_cc`` a 3 x 3 tensor
``_v``  Voigt components (6): xx, yy, zz, yz, xz, xy
``_f``  descriptor filters, K = K_rho + K_t + K_o (pair, triplet, Legendre inputs)
``_r``  pair (rho) filters, K_rho
``_k``  triplet filters, K_t
``_x``  splines of a spline table
``_m``  knots of all splines of a table, concatenated
``_e``  species (elements)
``_y``  unordered species pairs, P = S(S+1)/2
``_l``  factorised (Legendre) triplet filters, K_l
``_o``  their readout inputs, K_o (K_l, or K_l (L+1) with one per degree)
``_g``  polynomial degrees 0..L of their angular functions
``_a``  monomials u^α of degree 0..L (their Cartesian moments)
``_w``  flat readout weights of one species
``_h``  readout units of all layers, concatenated
``_s``  structures of a training set
``_q``  gradient slots (local spline coordinates, weights, e0)
``_z``  sample points of a sweep or scan (plots, property scans)
=====  ==============================================================

Modules, bottom up: :mod:`.layout` (the named tuples and the Voigt table),
:mod:`.spline` (the one spline evaluator and its parameter derivative),
:mod:`.readout` (activations, the network, the s-MEAM embedding),
:mod:`.energy` (the triplet walk, one atom's terms, the one scatter, a single
point), :mod:`.gradient` (the loss and its exact parameter gradient) and
:mod:`.jacobian` (rows of the residuals' Jacobian).
"""
