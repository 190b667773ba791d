"""The project's JSON model file (format "snnp", version 4; DESIGN.md §4).

Layout (S species, P = S(S+1)/2 species pairs (0,0), (0,1), ..., (0,S-1), (1,1), ...;
K = K_rho + K_t + K_o inputs, K_o = K_l, or K_l (L + 1) with legendre_outputs "degree")::

    {"format": "snnp", "version": 4,
     "units": {"energy": "eV", "length": "Angstrom"},
     "species": [S symbols],
     "cutoff": float,                  # equals Model.cutoff exactly
     "filters": {"rho": [K_rho x [S splines]], "f": [K_t x [S splines]],
                 "g": [K_t x [P splines]],
                 "legendre_degree": L, "legendre_outputs": "sum" | "degree",
                 "legendre": [K_l x {"f": [S splines], "c": [P x [L + 1 floats]]}]},
     "pair": null | [P splines],
     "readout": {"kind": "mlp", "activation": str, "hidden": [int, ...],
                 "input_offset": [S x [K]], "input_scale": [S x [K]],
                 "weights": [S x [{"W": [[out x in]], "b": [out]} per layer]]}
              | {"kind": "spline", "U": [S splines]},
     "e0": [S floats, eV],
     "core": null | {"kind": "zbl", "r_inner": float, "r_outer": float},
     "metadata": {free-form}}

    spline = {"x0": float, "x1": float, "n_knots": M, "y": [M floats],
              "d0": float, "dN": float, "fixed": [sorted indices in 0..M+1]}

Older versions lack keys: 3 ``filters.legendre_outputs`` (read as ``"sum"``, one
readout input per Legendre filter; ``"degree"`` is one per degree, the ``per_degree``
filters of :mod:`snnp_calc.model.legendre`), 2 also ``filters.legendre_degree`` and
``filters.legendre``, 1 also ``core``; the writer writes version 4. Floats are written
with ``repr`` (shortest round trip), a vector on one line, a matrix a row per line. The
reader is strict: it fills in nothing and raises :class:`~snnp_calc.errors.ModelFileError`
naming the file and the key path (``Mo.json: filters.rho[0][1].y: expected 10 numbers,
got 9``).

Beyond types and shapes it checks (as the LAMMPS plugin's reader,
``lammps/src/snnp_model_json.cpp``, does, with the same limits):
- every spline's knot spacing and coefficients are representable
  (:func:`~snnp_calc.model.splines.check_spacing`);
- the radial splines (``filters.rho``, ``filters.f``, ``pair``, the Legendre filters'
  ``f``) end with value 0 and slope 0 (DESIGN.md §1: energy and forces continuous at the
  cutoff); the writer refuses a model whose do not (keep such a one as meam/spline);
- input scales are normal positive float64 (the readout divides by them); ``X`` is no
  species;
- no file makes a reader allocate absurdly: at most :data:`MAX_KNOTS` knots, :data:`MAX_FILTERS`
  filters of each kind, degree 12, :data:`MAX_LAYERS` hidden layers of :data:`MAX_WIDTH` units.
"""
import numpy as np
from ase.data import atomic_numbers

from ..errors import ModelFileError
from ..kernels.layout import ACTIVATIONS
from ..model.core import ZBLCore
from ..model.legendre import MAX_DEGREE, LegendreFilter
from ..model.model import MLPReadout, Model, SplineReadout
from ..model.splines import MAX_KNOTS, Spline
from .json_document import Reader, dumps_document, key_path, parse, read_text, type_name

FORMAT = "snnp"
VERSION = 4
VERSIONS = (1, 2, 3, 4)
LEGENDRE_OUTPUTS = ("sum", "degree")
UNITS = {"energy": "eV", "length": "Angstrom"}
TOP_KEYS = ("format", "version", "units", "species", "cutoff", "filters", "pair", "readout",
            "e0", "core", "metadata")
CORE_KEYS = ("kind", "r_inner", "r_outer")
SPLINE_KEYS = ("x0", "x1", "n_knots", "y", "d0", "dN", "fixed")
# Size limits of a model file, the same in the plugin's reader (snnp_model_json.cpp).
MAX_FILTERS = 1000
MAX_LAYERS = 64
MAX_WIDTH = 10_000
# Smallest normal float64: an input scale below it has no finite reciprocal.
_TINY = float(np.finfo(np.float64).tiny)


# --- writing ------------------------------------------------------------------------------
def radial_end_problem(spline):
    """``(key, message)`` if a radial spline does not end at 0 with slope 0, else None.

    ``key`` is ``"y[M-1]"`` or ``"dN"`` (DESIGN.md §1: a radial filter that ends
    otherwise puts a step into the energy or the forces at the cutoff).
    """
    last = spline.n_knots - 1
    if spline.y[last] != 0.0:
        return (f"y[{last}]", f"a radial spline must end with value 0 at its last knot, got "
                f"{float(spline.y[last])!r}")
    if spline.dN != 0.0:
        return "dN", f"a radial spline must end with slope 0 at its last knot, got {spline.dN!r}"
    return None


def _check_radial_ends(model):
    """Raise ValueError naming the key path of a radial spline that does not end at 0."""
    named = [(f"filters.{name}[{k}][{b}]", s) for name, rows in (("rho", model.rho),
                                                                   ("f", model.f))
             for k, row in enumerate(rows) for b, s in enumerate(row)]
    named += [(f"pair[{q}]", s) for q, s in enumerate(model.phi)]
    named += [(f"filters.legendre[{k}].f[{b}]", s) for k, filt in enumerate(model.legendre)
              for b, s in enumerate(filt.f)]
    for path, spline in named:
        problem = radial_end_problem(spline)
        if problem is not None:
            raise ValueError(f"{path}.{problem[0]}: {problem[1]}; the JSON model format "
                             "requires it (DESIGN.md §1: no step in the energy or the forces at "
                             "the cutoff); only a meam/spline file (s-MEAM) may end otherwise")


def _spline_dict(spline):
    return {"x0": spline.x0, "x1": spline.x1, "n_knots": spline.n_knots,
            "y": spline.y.tolist(), "d0": spline.d0, "dN": spline.dN,
            "fixed": np.flatnonzero(spline.fixed).tolist()}


def to_dict(model):
    """The JSON document of ``model`` as plain Python objects (see the module docstring).

    Raises
    ------
    ValueError
        If a radial spline does not end with value and slope 0 (the reader
        would refuse the file); the message names the key path.
    """
    _check_radial_ends(model)
    ro = model.readout
    if isinstance(ro, SplineReadout):
        readout = {"kind": "spline", "U": [_spline_dict(s) for s in ro.U]}
    else:
        readout = {"kind": "mlp", "activation": ro.activation, "hidden": list(ro.hidden),
                   "input_offset": ro.offset.tolist(), "input_scale": ro.scale.tolist(),
                   "weights": [[{"W": layers[2 * l].tolist(), "b": layers[2 * l + 1].tolist()}
                                for l in range(len(layers) // 2)] for layers in ro.weights]}
    return {"format": FORMAT, "version": VERSION, "units": dict(UNITS),
            "species": list(model.species), "cutoff": float(model.cutoff),
            "filters": _filters_dict(model),
            "pair": [_spline_dict(s) for s in model.phi] if model.phi else None,
            "readout": readout, "e0": model.e0.tolist(),
            "core": (None if model.core is None else
                     {"kind": "zbl", "r_inner": model.core.r_inner, "r_outer": model.core.r_outer}),
            "metadata": dict(model.metadata)}


def _filters_dict(model):
    out = {name: [[_spline_dict(s) for s in row] for row in rows]
           for name, rows in (("rho", model.rho), ("f", model.f), ("g", model.g))}
    out["legendre_degree"] = model.legendre[0].degree if model.legendre else 0
    per_degree = bool(model.legendre) and model.legendre[0].per_degree
    out["legendre_outputs"] = LEGENDRE_OUTPUTS[per_degree]
    out["legendre"] = [{"f": [_spline_dict(s) for s in filt.f], "c": filt.c.tolist()}
                       for filt in model.legendre]
    return out


def dumps(model):
    """The model file text of ``model`` (ends with a newline).

    Raises
    ------
    ValueError
        If the metadata holds values JSON cannot represent (NaN, non-string
        keys, arbitrary objects), or a radial spline does not end at 0 (see
        :func:`to_dict`); the message names the key path.
    """
    return dumps_document(to_dict(model))


# --- reading ------------------------------------------------------------------------------
def _spline(r, value, path, radial=False):
    """``value`` as a :class:`~snnp_calc.model.splines.Spline`; a ``radial`` one must end at 0."""
    value = r.obj(value, path, SPLINE_KEYS)
    m = r.integer(value["n_knots"], key_path(path, "n_knots"), 2, MAX_KNOTS)
    y = r.vector(value["y"], key_path(path, "y"), m)
    x0, x1, d0, dN = (r.number(value[k], key_path(path, k)) for k in ("x0", "x1", "d0", "dN"))
    indices = r.array(value["fixed"], key_path(path, "fixed"))
    fixed = np.zeros(m + 2, bool)
    for i, index in enumerate(indices):
        r.integer(index, f"{path}.fixed[{i}]", 0, m + 1)
        if i and index <= indices[i - 1]:
            r.fail(f"{path}.fixed[{i}]", "indices must be strictly increasing")
        fixed[index] = True
    try:
        spline = Spline(x0, x1, y, d0, dN, fixed)
    except ValueError as err:
        raise ModelFileError(f"{r.source}: {path}: {err}") from err
    problem = radial_end_problem(spline) if radial else None
    if problem is not None:
        r.fail(key_path(path, problem[0]), f"{problem[1]} (DESIGN.md §1: no step in the energy "
               "or the forces at the cutoff)")
    return spline


def _spline_list(r, value, path, n, what, radial=False):
    """``value`` as a list of ``n`` splines (``radial``: each must end at 0)."""
    value = r.array(value, path, n, what)
    return [_spline(r, s, f"{path}[{i}]", radial) for i, s in enumerate(value)]


def _read_species(r, value):
    """Species symbols: known elements, no repeats, at least one."""
    species = r.array(value, "species")
    if not species:
        r.fail("species", "expected at least one species")
    for i, sym in enumerate(species):
        r.string(sym, f"species[{i}]")
        if sym not in atomic_numbers or atomic_numbers[sym] == 0:
            r.fail(f"species[{i}]", f"unknown element symbol {sym!r}")
        if sym in species[:i]:
            r.fail(f"species[{i}]", f"duplicate species {sym!r}")
    return tuple(species)


def _read_legendre(r, value, S, P, version):
    """The Legendre filters of ``filters`` (version 3, 4): radial splines and coefficients."""
    L = r.integer(value["legendre_degree"], "filters.legendre_degree", 0, MAX_DEGREE)
    outputs = (r.string(value["legendre_outputs"], "filters.legendre_outputs")
               if version >= 4 else "sum")
    if outputs not in LEGENDRE_OUTPUTS:
        r.fail("filters.legendre_outputs", f"expected 'sum' or 'degree', got {outputs!r}")
    rows = r.array(value["legendre"], "filters.legendre")
    if len(rows) > MAX_FILTERS:
        r.fail("filters.legendre", f"expected at most {MAX_FILTERS} filters, got {len(rows)}")
    out = []
    for k, row in enumerate(rows):
        path = f"filters.legendre[{k}]"
        row = r.obj(row, path, ("f", "c"))
        f = _spline_list(r, row["f"], f"{path}.f", S, "splines (one per neighbour species)",
                         radial=True)
        out.append(LegendreFilter(f, r.matrix(row["c"], f"{path}.c", (P, L + 1)),
                                  outputs == "degree"))
    return out


def _read_filters(r, value, S, P, version):
    """``{"rho": [[Spline]], "f": ..., "g": ..., "legendre": [LegendreFilter]}``."""
    keys = ("rho", "f", "g") + (("legendre_degree", "legendre") if version >= 3 else ())
    value = r.obj(value, "filters", keys + (("legendre_outputs",) if version >= 4 else ()))
    out = {}
    for name, width, per in (("rho", S, "neighbour species"), ("f", S, "neighbour species"),
                             ("g", P, "unordered species pair")):
        path = f"filters.{name}"
        n_filters = len(out["f"]) if name == "g" else None
        rows = r.array(value[name], path, n_filters, "filters (one per triplet filter)")
        if len(rows) > MAX_FILTERS:
            r.fail(path, f"expected at most {MAX_FILTERS} filters, got {len(rows)}")
        out[name] = [_spline_list(r, row, f"{path}[{k}]", width, f"splines (one per {per})",
                                  radial=name != "g")
                     for k, row in enumerate(rows)]
    out["legendre"] = _read_legendre(r, value, S, P, version) if version >= 3 else []
    if not out["rho"] and not out["f"] and not out["legendre"]:
        r.fail("filters", "the model needs at least one filter")
    return out


def _read_readout(r, value, S, k_rho, k_t, k_o):
    """The readout, checked against S species and K = k_rho + k_t + k_o inputs."""
    if "kind" not in r.obj(value, "readout"):
        r.fail("readout.kind", "missing key")
    kind = r.string(value["kind"], "readout.kind")
    if kind == "spline":
        value = r.obj(value, "readout", ("kind", "U"))
        if (k_rho, k_t, k_o) != (1, 1, 0):
            r.fail("readout.kind", "the spline (s-MEAM) readout needs exactly one pair and one "
                   f"triplet filter, got K_rho = {k_rho}, K_t = {k_t} and {k_o} Legendre inputs")
        return SplineReadout(_spline_list(r, value["U"], "readout.U", S, "splines (one per species)"))
    if kind != "mlp":
        r.fail("readout.kind", f"unknown readout kind {kind!r}; expected 'mlp' or 'spline'")
    value = r.obj(value, "readout", ("kind", "activation", "hidden", "input_offset",
                                     "input_scale", "weights"))
    activation = r.string(value["activation"], "readout.activation")
    if activation not in ACTIVATIONS:
        r.fail("readout.activation",
               f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
    hidden = r.array(value["hidden"], "readout.hidden")
    if len(hidden) > MAX_LAYERS:
        r.fail("readout.hidden", f"expected at most {MAX_LAYERS} hidden layers, got {len(hidden)}")
    hidden = tuple(r.integer(h, f"readout.hidden[{i}]", 1, MAX_WIDTH) for i, h in enumerate(hidden))
    K = k_rho + k_t + k_o
    offset = r.matrix(value["input_offset"], "readout.input_offset", (S, K))
    scale = r.matrix(value["input_scale"], "readout.input_scale", (S, K))
    for a, k in zip(*np.nonzero(~(scale >= _TINY))):
        r.fail(f"readout.input_scale[{a}][{k}]", "scale must be positive and a normal float64 "
               f"(at least {_TINY!r}: inputs are divided by it), got {float(scale[a, k])!r}")
    sizes = (K,) + hidden + (1,)
    weights = []
    for a, layers in enumerate(r.array(value["weights"], "readout.weights", S,
                                       "weight sets (one per species)")):
        path = f"readout.weights[{a}]"
        layers = r.array(layers, path, len(sizes) - 1, "layers")
        arrays = []
        for l, layer in enumerate(layers):
            layer = r.obj(layer, f"{path}[{l}]", ("W", "b"))
            arrays.append(r.matrix(layer["W"], f"{path}[{l}].W", (sizes[l + 1], sizes[l])))
            arrays.append(r.vector(layer["b"], f"{path}[{l}].b", sizes[l + 1]))
        weights.append(arrays)
    try:
        return MLPReadout(activation, hidden, weights, offset, scale)
    except ValueError as err:
        raise ModelFileError(f"{r.source}: readout: {err}") from err


def _read_core(r, value):
    """The core repulsion: None, or a :class:`~snnp_calc.model.core.ZBLCore`."""
    if value is None:
        return None
    value = r.obj(value, "core", CORE_KEYS)
    if r.string(value["kind"], "core.kind") != "zbl":
        r.fail("core.kind", f"unknown core {value['kind']!r}; expected 'zbl'")
    inner, outer = (r.number(value[k], f"core.{k}") for k in ("r_inner", "r_outer"))
    try:
        return ZBLCore(inner, outer)
    except ValueError as err:
        raise ModelFileError(f"{r.source}: core: {err}") from err


def from_dict(d, source="<dict>"):
    """Build a :class:`~snnp_calc.model.model.Model` from a parsed document.

    Parameters
    ----------
    d : dict
        The document (see the module docstring).
    source : str
        Name used in error messages (the file name when reading a file).

    Returns
    -------
    Model

    Raises
    ------
    ModelFileError
        On any missing or unknown key, wrong type or shape, non-finite number,
        unsupported format, version or units, or cutoff mismatch; the message
        names ``source`` and the key path.
    """
    r = Reader(source)
    r.scan(d, "")
    if not isinstance(d, dict):
        r.fail("", f"expected an object, got {type_name(d)}")
    for key in ("format", "version"):
        if key not in d:
            r.fail(key, "missing key")
    if d["format"] != FORMAT:
        r.fail("format", f"unknown format {d['format']!r}; expected {FORMAT!r}")
    version = r.integer(d["version"], "version")
    if version not in VERSIONS:
        r.fail("version", f"unsupported version {version}; this reader supports "
               f"{', '.join(map(str, VERSIONS))}")
    r.obj(d, "", TOP_KEYS if version >= 2 else tuple(k for k in TOP_KEYS if k != "core"))
    units = r.obj(d["units"], "units", tuple(UNITS))
    for key, unit in UNITS.items():
        if units[key] != unit:
            r.fail(f"units.{key}", f"unsupported unit {units[key]!r}; expected {unit!r}")
    species = _read_species(r, d["species"])
    S = len(species)
    P = S * (S + 1) // 2
    cutoff = r.number(d["cutoff"], "cutoff")
    filters = _read_filters(r, d["filters"], S, P, version)
    phi = ([] if d["pair"] is None else
           _spline_list(r, d["pair"], "pair", P, "splines (one per unordered species pair)",
                        radial=True))
    readout = _read_readout(r, d["readout"], S, len(filters["rho"]), len(filters["f"]),
                            sum(filt.n_outputs for filt in filters["legendre"]))
    e0 = r.vector(d["e0"], "e0", S)
    metadata = r.obj(d["metadata"], "metadata")
    core = _read_core(r, d.get("core"))
    radial = [s for rows in (filters["rho"], filters["f"]) for row in rows for s in row] + phi
    r_c = max(s.x1 for s in radial + [s for filt in filters["legendre"] for s in filt.f])
    if core is not None and core.r_outer > r_c:
        r.fail("core.r_outer", f"the core ends at {core.r_outer!r} Å, beyond the cutoff "
               f"{r_c!r} Å (the largest last knot of the radial splines)")
    try:
        model = Model(species, filters["rho"], filters["f"], filters["g"], phi, readout, e0,
                      metadata, core, filters["legendre"])
    except ValueError as err:
        raise ModelFileError(f"{source}: {err}") from err
    if model.cutoff != cutoff:
        r.fail("cutoff", f"{cutoff!r} does not equal the largest last knot of the radial "
               f"splines, {model.cutoff!r}")
    return model


def loads(text, source="<string>"):
    """Parse model file text; ``source`` names it in error messages (see :func:`from_dict`)."""
    return from_dict(parse(text, source), source)


def read_json(path):
    """Read a JSON model file at ``path`` (str or path-like) as a Model.

    Raises
    ------
    ModelFileError
        If the file is not UTF-8, not JSON (message ``file:line:column``) or not a
        valid model document (message names the key path).
    """
    return loads(read_text(path), str(path))
