"""The layers of docs/architecture.md, checked: what each part of the package may import.

Every ``import`` / ``from ... import`` between parts of ``heavytail_diffusion`` is read from the source
(no import is executed) and compared with the table below; a new dependency upwards (say diagnostics
importing models) fails here with the module and the line. The lower layers must also import without
torch, so that diagnostics, scoring and plots work on a machine without it.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import heavytail_diffusion

ROOT = Path(heavytail_diffusion.__file__).parent
BASE = {"errors", "validation"}
# part of the package -> the other parts it may import ("" is the package's __init__: version, lazy names)
ALLOWED: dict[str, set[str]] = {
    "": {"errors"},
    "errors": set(),
    "validation": {"errors"},
    "device": {"errors"},
    "schema": {"errors"},
    "readers": {"errors"},
    "datasets": {"errors"},
    "persistence": {"", "errors"},
    "data": BASE | {"schema", "readers", "datasets"},
    "encoding": BASE | {"schema"},
    "preprocessing": BASE,
    "benchmarks": BASE,
    "execution": BASE,
    "diagnostics": BASE,
    "priors": BASE | {"device", "diagnostics"},
    "diffusion": BASE | {"device"},
    "scorecard": BASE | {"diagnostics"},
    "scoring": BASE | {"diagnostics", "scorecard", "data"},
    "plots": BASE | {"diagnostics", "scorecard"},
    "models": BASE | {"", "device", "schema", "data", "encoding", "preprocessing", "persistence",
                      "diagnostics", "priors", "diffusion", "scorecard"},
    "streaming": BASE | {"data", "execution", "models"},
    "report": BASE | {"data", "execution", "diagnostics", "models", "scorecard", "scoring", "plots"},
    # deprecated shims that re-export moved names
    "baselines": {"models"},
    "peers": {"models"},
    "realdata": {"diagnostics", "models", "preprocessing"},
    "cli": None,  # the top: may import anything
    "__main__": {"cli"},
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path):
    """(line, imported module) for every import of the package inside ``path``."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = list(rel.parts[:-1])  # the folder, for a module and for an __init__ alike
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                yield node.lineno, ".".join(base + [node.module])
            else:
                for alias in node.names:
                    yield node.lineno, ".".join(base + [alias.name])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("heavytail_diffusion"):
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("heavytail_diffusion"):
                    yield node.lineno, alias.name


def _normalise(target: str) -> str:
    part = _part(target)
    return "" if part.startswith("__version__") else part


MODULES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(ROOT).as_posix() for p in MODULES])
def test_module_imports_only_its_layers(path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    own = _part(".".join(rel.parts)) if rel.parts[-1] != "__init__" or len(rel.parts) > 2 else ""
    assert own in ALLOWED, f"{rel}: part {own!r} is not in the layer table of tests/test_architecture.py"
    allowed = ALLOWED[own]
    if allowed is None:
        return
    bad = [(line, t) for line, t in _imports(path) if _normalise(t) not in allowed | {own}]
    assert not bad, f"{rel} imports above its layer: " + ", ".join(f"line {n}: {t}" for n, t in bad)


def test_the_table_knows_every_part():
    parts = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}  # fmt: skip
    parts = {"" if p == "__init__" else p for p in parts}
    assert parts == set(ALLOWED), f"parts missing from / stale in the table: {parts ^ set(ALLOWED)}"


@pytest.mark.parametrize("module", ["diagnostics", "scorecard", "scoring", "plots", "data", "schema",
                                    "preprocessing", "benchmarks"])  # fmt: skip
def test_lower_layers_import_without_torch(module):
    code = (f"import sys, heavytail_diffusion.{module}; "
            "bad = [m for m in ('torch', 'pyro') if m in sys.modules]; assert not bad, bad")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT.parent)
