"""``python -m kurator.api.crds [--check]``: regenerate the committed CRDs from the models, or only check
that they are up to date (exit 1 if not)."""

from __future__ import annotations

import argparse
import sys

from kurator.api.crds import stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kurator.api.crds", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"out of date: {path} (run python -m kurator.api.crds)", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
