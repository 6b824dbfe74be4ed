"""Size of the package's code: the longest functions and the longest modules.

Usage::

    python analyses/code_stats.py [--top 10] [--package heavytail_diffusion]

Prints the ``--top`` longest functions or methods (lines from the ``def`` to the last line of the
body, decorators excluded; and the same without the docstring), the functions whose code alone is
above ``--max-function-lines``, and every module above ``--min-module-lines``. The
refactor issue asks for no function above 80 lines without a stated reason and no module above
1,000 lines; this script is how those figures are measured.
"""
from __future__ import annotations

import argparse
import ast
from pathlib import Path


def _docstring_lines(node) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].end_lineno - body[0].lineno + 1
    return 0


def function_lengths(root: Path, *, code_only: bool = False) -> list[tuple[int, str]]:
    """(lines, "module.py:qualified.name") for every function and method under ``root``.

    ``code_only`` leaves the docstring's lines out of the count (the numpydoc sections of a
    public function are often half its length).
    """
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root.parent).as_posix()

        def visit(node, prefix, rel=rel):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = f"{prefix}{child.name}"
                    n = child.end_lineno - child.lineno + 1
                    out.append((n - _docstring_lines(child) if code_only else n, f"{rel}:{name}"))
                    visit(child, name + ".", rel)
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.", rel)

        visit(tree, "")
    return sorted(out, reverse=True)


def module_lengths(root: Path) -> list[tuple[int, str]]:
    """(lines, path) for every module under ``root``, longest first."""
    rows = [(len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(root.parent).as_posix())
            for p in root.rglob("*.py")]
    return sorted(rows, reverse=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--package", default=str(Path(__file__).resolve().parents[1] / "heavytail_diffusion"))
    ap.add_argument("--min-module-lines", type=int, default=600)
    ap.add_argument("--max-function-lines", type=int, default=80)
    args = ap.parse_args(argv)
    root = Path(args.package)
    code = {name: n for n, name in function_lengths(root, code_only=True)}
    print(f"| lines | without docstring | function ({args.top} longest) |\n|---:|---:|---|")
    for n, name in function_lengths(root)[: args.top]:
        print(f"| {n} | {code[name]} | `{name}` |")
    over = [(n, name) for n, name in function_lengths(root, code_only=True) if n > args.max_function_lines]
    print(f"\n{len(over)} functions above {args.max_function_lines} lines without their docstring:")
    for n, name in over:
        print(f"- {n} `{name}`")
    print(f"\n| lines | module (above {args.min_module_lines}) |\n|---:|---|")
    for n, name in module_lengths(root):
        if n > args.min_module_lines:
            print(f"| {n} | `{name}` |")


if __name__ == "__main__":
    main()
