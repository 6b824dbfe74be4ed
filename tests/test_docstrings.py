"""Every public function or method with more than one argument documents them (numpydoc sections).

Checked on the package's own objects (functions defined in the module, methods of classes defined there):
the docstring has a "Parameters" section and a "Returns" section (a generator's "Yields" counts).
``self``/``cls`` and ``__init__`` (documented on the class) are not counted.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import heavytail_diffusion


def _public_callables():
    for info in pkgutil.walk_packages(heavytail_diffusion.__path__, prefix="heavytail_diffusion."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{info.name}.{name}", obj
            elif inspect.isclass(obj):
                for attr, fn in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(fn):
                        yield f"{info.name}.{name}.{attr}", fn


def test_public_functions_have_parameters_and_returns_sections():
    missing = []
    for qualname, fn in _public_callables():
        args = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        if len(args) < 2:
            continue
        doc = inspect.getdoc(fn) or ""
        lacks = [s for s in ("Parameters", "Returns") if s not in doc and not (s == "Returns" and "Yields" in doc)]
        if lacks:
            missing.append(f"{qualname}: {', '.join(lacks)}")
    assert not missing, "numpydoc sections missing:\n" + "\n".join(missing)
