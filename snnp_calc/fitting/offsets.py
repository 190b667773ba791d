"""Isotropic stress offsets per group of structures: nuisance parameters of the stress loss.

DFT stress labels can carry a constant isotropic error that the energies do
not: the Pulay stress of a plane-wave basis that is complete at one volume
only (G. P. Francis and M. C. Payne, J. Phys.: Condens. Matter 2, 4395
(1990)), or settings that differ between the calculations of two data sets.
In the Zuo et al. (2020) Ni and Cu ``Elastic`` frames the stress labels are
2-3 GPa off the strain derivative of their own energies (see the data set's
README). A potential cannot fit both; fitting the stresses pulls the
energies away, which is why stress used to get almost no weight.

Here the loss compares the model's stress plus a fitted pressure offset of
the structure's group (its ``config_type``) with the label,

    L_S = wS Σ_s |σ_s + c_g(s) δ − σ̂_s|²,    δ = (1, 1, 1, 0, 0, 0),

so a constant isotropic shift of a group's labels costs nothing, while the
shear stresses, the differences of pressure between structures of a group
and the whole stress of structures in other groups still pin the curvature
of E(V). The offsets c_g (GPa) are fitted with the model and reported; they
are not part of it.
"""
import dataclasses

import numpy as np
from ase.units import GPa

# the isotropic (diagonal) Voigt components
ISOTROPIC_V = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])


class StressOffsets:
    """The groups of a training set that carry stresses, and the offsets' algebra.

    Parameters
    ----------
    data : snnp_calc.fitting.training_set.TrainingSet
        The training set; each ``config_type`` with at least one stress label
        is a group, in sorted order.
    names : iterable of str, optional
        The groups, when ``data`` is one block of a larger training set (a
        data-parallel fit): the union of every block's :meth:`groups`.
    """

    def __init__(self, data, names=None):
        self.names = tuple(sorted(set(self.groups(data) if names is None else names)))
        self.n = len(self.names)

    @staticmethod
    def groups(data):
        """The ``config_type`` s of ``data`` that have a stress label, sorted."""
        types = [f.config_type for f in data.frames]
        return sorted({t for t, has in zip(types, data.has_stress_s) if has})

    def group_of(self, data):
        """(n_s,) group index of every structure of ``data`` with a stress label, else -1.

        Structures of a ``config_type`` that is no group here (a validation set's
        type unseen in training) get -1: no offset.
        """
        index = {name: g for g, name in enumerate(self.names)}
        return np.array([index.get(f.config_type, -1) if has else -1
                         for f, has in zip(data.frames, data.has_stress_s)], np.int64)

    def shifted(self, data, c_g):
        """``data`` with the labels moved by ``-c_g δ`` (GPa), the references the model must meet."""
        g_s = self.group_of(data)
        shift_s = np.where(g_s >= 0, np.asarray(c_g, float)[np.maximum(g_s, 0)], 0.0) * GPa
        S_ref_sv = np.ascontiguousarray(data.S_ref_sv - shift_s[:, None] * ISOTROPIC_V)
        return dataclasses.replace(data, S_ref_sv=S_ref_sv)

    def gradient(self, shifted, wS_s, S_sv):
        """dL/dc_g (n,) from the stresses ``S_sv`` predicted for ``shifted`` (eV/Å³).

        ``wS_s`` are the structures' stress weights (for stresses in eV/Å³).
        """
        g_s = self.group_of(shifted)
        r_s = ((S_sv - shifted.S_ref_sv) * ISOTROPIC_V).sum(axis=1)
        grad = np.zeros(self.n)
        keep = g_s >= 0
        np.add.at(grad, g_s[keep], 2.0 * wS_s[keep] * r_s[keep] * GPa)
        return grad

    def gauss_newton_diagonal(self, data, wS_s):
        """``diag(J^T J)`` of the offsets: 3 wS GPa² summed over each group's structures."""
        g_s = self.group_of(data)
        diag = np.zeros(self.n)
        keep = g_s >= 0
        np.add.at(diag, g_s[keep], 3.0 * wS_s[keep] * GPa ** 2)
        return diag

    def as_dict(self, c_g):
        """``{group: offset in GPa}`` for reports and metadata."""
        return {name: float(c) for name, c in zip(self.names, c_g)}
