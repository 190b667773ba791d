"""The package's architecture: layers that import only downward, no cycle, small units.

Every module of ``snnp_calc`` is parsed with ``ast`` (imports inside functions
included, which run time alone would not see). Its layer is that of its first
name under the package: ``snnp_calc.kernels.energy`` is in ``kernels``.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "snnp_calc"

# Bottom up. A module may import from any lower layer and from its own group.
LAYERS = (
    ("errors", "_files"),
    ("kernels",),
    ("model",),
    ("io", "evaluate", "dataset"),
    ("metrics",),
    ("calculator",),
    ("fitting", "plots", "lammps"),
    ("validation",),
    ("cli",),
)
# Imports between different groups of one layer that are allowed (importer, imported).
SAME_LAYER = {("dataset", "evaluate")}
# What the kernels may import: Numba and plain arrays, nothing of ASE, SciPy or the model.
KERNEL_IMPORTS = {"numpy", "numba", "typing", "math"}
# Optional dependencies, which may be imported inside a function under a comment saying so.
OPTIONAL = {"matplotlib", "lammps", "mpi4py"}
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# Units over the limits, each with its reason.
EXCEPTIONS = {
    "fitting/driver.py:fit": "67 of its lines are the numpydoc parameters of the public fit()",
}


def modules():
    """``{dotted name: path}`` of every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name, path):
    """``[(imported module, line, inside a function, comment above)]`` of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    stem = ".".join(base + ([child.module] if child.module else []))
                else:
                    stem = child.module
                # "from . import x" imports the submodule x, "from .m import f" the module m
                targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in MODULES else stem
                           for alias in child.names]
            for target in targets:
                above = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                found.append((target, child.lineno, in_function, above))
            visit(child, inside)

    visit(tree, False)
    return found


MODULES = modules()


def internal(target):
    """The package module ``target`` names (itself or its nearest existing parent), or None."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target if target and target.startswith("snnp_calc") else None


def group(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(name):
    g = group(name)
    for k, groups in enumerate(LAYERS):
        if g in groups:
            return k
    raise AssertionError(f"{name}: group {g!r} is in no layer of tests/test_layers.py")


GRAPH = {name: {internal(t) for t, *_ in imports_of(name, path)} - {None, name}
         for name, path in MODULES.items()}


def test_every_module_has_a_layer():
    for name in MODULES:
        if name != "snnp_calc":
            layer(name)


def test_imports_go_only_downward():
    bad = []
    for name, targets in GRAPH.items():
        for target in targets:
            if name == "snnp_calc":
                # the package root re-exports the public API: anything but the command line
                if group(target) == "cli":
                    bad.append(f"{name} -> {target}")
                continue
            if target == "snnp_calc":
                bad.append(f"{name} -> {target} (the package root)")
                continue
            a, b = group(name), group(target)
            if a == b or layer(target) < layer(name) or (a, b) in SAME_LAYER:
                continue
            bad.append(f"{name} (layer {layer(name)}) -> {target} (layer {layer(target)})")
    assert not bad, "upward or sideways imports:\n" + "\n".join(sorted(bad))


def test_no_import_cycle():
    state, stack, cycles = {}, [], []

    def walk(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(GRAPH):
        if node not in state:
            walk(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_kernels_import_only_numba_and_numpy():
    bad = [f"{name}:{line} imports {target}"
           for name, path in MODULES.items() if group(name) == "kernels"
           for target, line, _, _ in imports_of(name, path)
           if not (target.split(".")[0] in KERNEL_IMPORTS or
                   (internal(target) or "").startswith("snnp_calc.kernels"))]
    assert not bad, "\n".join(bad)


def test_no_import_hidden_in_a_function():
    bad = [f"{name}:{line} imports {target} inside a function"
           for name, path in MODULES.items()
           for target, line, in_function, above in imports_of(name, path)
           if in_function and not (target.split(".")[0] in OPTIONAL and "optional" in above)]
    assert not bad, ("imports inside functions (only optional dependencies, under a comment "
                     "saying so):\n" + "\n".join(bad))


def test_nothing_imports_the_command_line():
    bad = [f"{name} -> {target}" for name, targets in GRAPH.items() for target in targets
           if group(target) == "cli" and group(name) != "cli"]
    assert not bad, "\n".join(bad)


def test_files_and_functions_are_small():
    bad = []
    for name, path in MODULES.items():
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_FILE_LINES and rel not in EXCEPTIONS:
            bad.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{rel}:{node.name}" not in EXCEPTIONS:
                    bad.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
    assert not bad, "\n".join(bad)


def test_exceptions_are_still_needed():
    """An exception whose unit shrank under the limit is removed, not kept as a licence."""
    for key in EXCEPTIONS:
        rel, _, func = key.partition(":")
        text = (PACKAGE / rel).read_text(encoding="utf-8")
        if not func:
            assert text.count("\n") > MAX_FILE_LINES, key
            continue
        nodes = [n for n in ast.walk(ast.parse(text))
                 if isinstance(n, ast.FunctionDef) and n.name == func]
        assert nodes and nodes[0].end_lineno - nodes[0].lineno + 1 > MAX_FUNCTION_LINES, key


@pytest.mark.parametrize("statement, absent", [
    ("import snnp_calc", "scipy.optimize"),
    ("from snnp_calc import SNNP, read_model, write_model", "scipy.optimize"),
    ("import snnp_calc", "snnp_calc.fitting"),
])
def test_inference_import_is_light(statement, absent):
    """Inference users do not load the fitting layer or SciPy's optimisers."""
    code = f"import sys; {statement}; assert {absent!r} not in sys.modules, {absent!r}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_fitting_api_is_still_public():
    code = ("import snnp_calc, sys; from snnp_calc import fit, fit_committee, LossWeights; "
            "assert callable(fit) and 'scipy.optimize' in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
