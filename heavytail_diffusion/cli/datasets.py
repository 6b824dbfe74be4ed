"""`heavytail datasets`: list the bundled real datasets (name, size, description, file path)."""

from __future__ import annotations

import argparse
import json
import shutil
import textwrap

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "datasets"
HELP = "list the bundled real heavy-tailed datasets (pass a FILE path shown here to other commands)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``heavytail datasets``."""
    parser.add_argument(
        "--json", action="store_true", help="print the table as JSON (one object per dataset)"
    )
    parser.add_argument(
        "--path", metavar="NAME", help="print only the file path of dataset NAME (for use in shell scripts)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the table of bundled datasets (or JSON, or one path); returns the exit status."""
    from ..data import dataset_path, list_datasets

    if args.path:
        print(dataset_path(args.path))
        return 0
    df = list_datasets()
    df["path"] = [str(dataset_path(name)) for name in df["name"]]
    root = dataset_path(df["name"].iloc[0]).parent
    if args.json:
        print(json.dumps(df.to_dict(orient="records"), indent=2))
        return 0
    width = shutil.get_terminal_size((110, 24)).columns
    name_w = max(len("name"), int(df["name"].str.len().max()))
    head = f"{'name':<{name_w}}  {'rows':>6}  {'cols':>4}  description"
    print(head)
    print("-" * min(width, max(len(head), 80)))
    indent = " " * (name_w + 16)
    for rec in df.itertuples(index=False):
        first = f"{rec.name:<{name_w}}  {rec.rows:>6}  {rec.columns:>4}  "
        desc = textwrap.wrap(rec.description, max(30, width - len(first))) or [""]
        print(first + desc[0])
        for extra in desc[1:]:
            print(indent + extra)
        if rec.published_tail:
            for i, line in enumerate(textwrap.wrap(rec.published_tail, max(30, width - len(indent) - 6))):
                print(indent + ("tail: " if i == 0 else "      ") + line)
        print(indent + "file: " + rec.path)
    print(f"\n{len(df)} datasets in {root}; units, origin and licences: data/README.md")
    return 0
