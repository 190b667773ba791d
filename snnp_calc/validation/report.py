"""One validation report: every property of a calculator's crystal, next to DFT.

The abstraction is the *report*, a JSON-ready dict that :func:`validate`
fills by running each property function of this subpackage on the relaxed
crystal, and that :func:`format_validation` prints as a table of model
against reference values with relative errors. The reference comes from a
training set (:func:`~snnp_calc.validation.reference.reference_from_data`);
without one the table shows the model's values alone.
"""
import time
from contextlib import contextmanager

import numpy as np

from .._files import is_path
from ..dataset import frames_of
from .common import calculator_name, plain
from .defects import surface_energies, vacancy_formation
from .elastic import elastic_constants
from .eos import eos_scan, equilibrium
from .lattice import Crystal, guess_crystal
from .md import md_stability
from .phonons import phonon_frequencies
from .reference import reference_from_data

# the properties after the equilibrium, in the order they run
PROPERTIES = ("eos_scan", "elastic", "vacancy", "surfaces", "phonons", "md")


@contextmanager
def _timed(report, name, crystal):
    """Time one property into ``report["timings"]``; prefix its ValueError with what ran."""
    start = time.perf_counter()
    try:
        yield
    except ValueError as err:
        raise ValueError(f"validate {crystal.symbol} {crystal.lattice} ({name}): {err}") from err
    report["timings"][name] = time.perf_counter() - start


def validate(calc, symbol, lattice=None, a=None, data=None, temperature=None,
             melting_point=None, md_time=2.0, c=None, properties=PROPERTIES, max_strain=0.02):
    """Run every physical check of a calculator on an elemental crystal.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
        Any ASE calculator, or a factory returning one.
    symbol : str
        The element.
    lattice : {"bcc", "fcc", "hcp", "diamond"}, optional
        Guessed from ``data`` or ASE's reference data when missing
        (:func:`~snnp_calc.validation.lattice.guess_crystal`).
    a, c : float, optional
        Starting lattice parameters, Å (relaxed before anything else).
    data : str or path-like or list of Frame, optional
        A training set: its ``Elastic`` frames give the DFT reference.
    temperature, melting_point : float, optional
        Hot-MD target (K), by default 1.5 × ``melting_point``, or 2000 K.
    md_time : float
        Length of the hot MD, ps.
    properties : sequence of str
        Which of :data:`PROPERTIES` to compute (the equilibrium always is).
    max_strain : float
        Strain window of the reference fits.

    Returns
    -------
    dict
        ``symbol``, ``lattice``, ``calculator``, ``start`` (the starting
        crystal), ``equilibrium`` and one entry per computed property (the
        dicts of :func:`~snnp_calc.validation.eos.equilibrium`,
        :func:`~snnp_calc.validation.eos.eos_scan`, …), ``reference`` (or
        None) and ``timings`` (s).

    Raises
    ------
    ValueError
        Naming the element, lattice and property: an element the calculator
        lacks, a lattice or defect that does not relax, data without Elastic
        frames of the lattice, an unknown property.
    """
    unknown = sorted(set(properties) - set(PROPERTIES))
    if unknown:
        raise ValueError(f"unknown properties {', '.join(unknown)}; "
                         f"choose from {', '.join(PROPERTIES)}")
    frames = frames_of(data) if data is not None else None
    start = guess_crystal(symbol, lattice, a, c, frames)
    report = {"symbol": symbol, "lattice": start.lattice, "calculator": calculator_name(calc),
              "start": start.as_dict(), "reference": None, "timings": {}}
    if frames is not None:
        with _timed(report, "reference", start):
            source = str(data) if is_path(data) else None
            report["reference"] = reference_from_data(frames, start.lattice, symbol, max_strain,
                                                      source)
    with _timed(report, "equilibrium", start):
        report["equilibrium"] = equilibrium(calc, start)
    crystal = Crystal(**report["equilibrium"]["crystal"])
    runs = {"eos_scan": lambda: eos_scan(calc, crystal),
            "elastic": lambda: elastic_constants(calc, crystal),
            "vacancy": lambda: vacancy_formation(calc, crystal),
            "surfaces": lambda: surface_energies(calc, crystal),
            "phonons": lambda: phonon_frequencies(calc, crystal),
            "md": lambda: md_stability(calc, crystal, temperature, melting_point, md_time)}
    for name in PROPERTIES:
        if name in properties:
            with _timed(report, name, crystal):
                report[name] = runs[name]()
    return plain(report)


def comparison_rows(report):
    """The rows of :func:`format_validation`: ``(label, unit, model, reference, format)``.

    ``model`` and ``reference`` are floats, None (not computed / no reference)
    or strings (verdicts); ``format`` is the format spec of the numbers. The
    DFT C44 is matched to the model's clamped-ion value when the data's
    sheared cells are clamped-ion, else to the relaxed one (bcc, fcc: to both).
    """
    ref = report.get("reference") or {}
    eq = report["equilibrium"]
    rows = [("a0", "Å", eq["a0"], ref.get("a0_energy"), ".4f")]
    if ref:
        rows.append(("a0 vs DFT zero stress", "Å", eq["a0"], ref.get("a0_stress"), ".4f"))
    if "c0" in eq:
        rows.append(("c0", "Å", eq["c0"], None, ".4f"))
    rows += [("E per atom", "eV", eq["energy_per_atom"], ref.get("energy_per_atom"), ".4f"),
             ("B (Birch–Murnaghan ±3 %)", "GPa", eq["bulk_modulus"], ref.get("bulk_modulus"),
              ".1f")]
    if "elastic" in report:
        el = report["elastic"]
        clamped_ref = ref.get("shear_ions") == "clamped"
        # bcc, fcc: every atom is an inversion centre, clamped- and relaxed-ion C44 are one
        both = report["lattice"] in ("bcc", "fcc")
        rows.append(("B (Voigt, from C_ij)", "GPa", el["bulk_modulus"], ref.get("bulk_modulus"),
                     ".1f"))
        rows += [(name, "GPa", el[name], ref.get(name), ".1f")
                 for name in ("C11", "C12", "C13", "C33") if name in el]
        rows.append(("C44 relaxed-ion", "GPa", el["C44"],
                     ref.get("C44") if both or not clamped_ref else None, ".1f"))
        rows.append(("C44 clamped-ion", "GPa", el["clamped"]["C44"],
                     ref.get("C44") if both or clamped_ref else None, ".1f"))
    if "eos_scan" in report:
        scan = report["eos_scan"]
        rows.append(("B_loc min (−10..+5 %)", "GPa", scan["min_local_bulk_modulus"], None,
                     ".1f"))
        rows.append(("P monotonic (−10..+5 %)", "",
                     "yes" if scan["pressure_monotonic"]
                     else f"no ({scan['non_monotonic_steps']} steps)", None, ""))
    if "vacancy" in report:
        rows.append(("E_vac (relaxed)", "eV", report["vacancy"]["energy"], None, ".3f"))
    rows += [(f"γ({face})", "J/m²", values["energy"], None, ".3f")
             for face, values in report.get("surfaces", {}).items()]
    if "phonons" in report:
        ph = report["phonons"]
        rows.append(("lowest phonon (judged)", "THz", ph["min_frequency"], None, ".2f"))
        rows.append(("imaginary modes", "", "yes" if ph["imaginary"] else "no", None, ""))
    if "md" in report:
        md = report["md"]
        rows.append((f"MD {md['temperature_target']:.0f} K closest/d_nn", "",
                     md["min_distance_ratio"], None, ".2f"))
        rows.append((f"MD {md['temperature_target']:.0f} K max T", "K", md["max_temperature"],
                     None, ".0f"))
        rows.append(("MD verdict", "", "stable" if md["stable"] else f"UNSTABLE: {md['reason']}",
                     None, ""))
    return rows


def _cell(value, spec):
    """A table cell: a number in format ``spec``, a string, or '–' for None."""
    if value is None:
        return "–"
    return value if isinstance(value, str) else format(value, spec)


def _error(label, model, reference):
    """The error column: relative in %, for energies per atom the difference in meV."""
    if not (isinstance(model, float) and isinstance(reference, float)) or reference == 0:
        return ""
    if label == "E per atom":
        # energies have an arbitrary zero: the difference, not a ratio, means something
        return f"{1000 * (model - reference):+.1f} meV"
    return f"{100 * (model - reference) / abs(reference):+.1f} %"


def format_validation(report):
    """A fixed-width text table of a :func:`validate` report: model, DFT and their error.

    The error is relative (%), except for the energy per atom: its difference
    in meV/atom (energy zeros are conventions).
    """
    rows = comparison_rows(report)
    ref = report.get("reference")
    head = f"{report['symbol']} {report['lattice']} ({report['calculator']})"
    if ref:
        head += f" against DFT from {ref['source']} ({ref['n_frames']} Elastic frames)"
    width = max(len(r[0]) for r in rows) + 2
    lines = [head, f"{'property':<{width}}{'unit':<6}{'model':>12}{'DFT':>12}{'error':>11}"]
    for label, unit, model, reference, spec in rows:
        lines.append(f"{label:<{width}}{unit:<6}{_cell(model, spec):>12}"
                     f"{_cell(reference, spec):>12}{_error(label, model, reference):>11}")
    if "phonons" in report:
        # distinct frequencies at each special point (degenerate modes once)
        points = [f"{k} " + " ".join(f"{f:.2f}" for f in np.unique(np.round(v, 2) + 0.0))
                  for k, v in report["phonons"]["special_points"].items()]
        lines.append("phonons (THz): " + "; ".join(points))
    return "\n".join(lines)
