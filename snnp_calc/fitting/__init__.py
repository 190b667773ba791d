"""Fitting an s-NNP to reference energies, forces and stresses.

Bottom up: :mod:`.training_set` (frames packed for the kernels),
:mod:`.loss` (the loss and its exact gradient), :mod:`.jacobian` (residuals
and their exact Jacobian), :mod:`.linear` (the exact linear first fit),
:mod:`.start` (the starting model: presets and :func:`start_model`),
:mod:`.driver` (:func:`fit`: optimiser, validation, early stopping,
checkpoints), :mod:`.committee` (:func:`fit_committee`) and :mod:`.selection`
(:func:`select_structures`: which structures to label next). This is the only
layer that imports SciPy's optimisers.
"""
from .committee import fit_committee
from .driver import fit
from .loss import LossWeights
from .selection import select_structures
from .start import PRESETS, preset_model, start_model

__all__ = ["fit", "fit_committee", "LossWeights", "PRESETS", "preset_model", "start_model",
           "select_structures"]
