"""Every benchmark, one command: writes BENCHMARKS.md (component tables print as they run)."""

import sys

from bench import compare, query_fill, scale


def main() -> None:
    """Retain against the peer on three model shapes, components, a small model's Query, and scale."""
    argv, sys.argv = sys.argv, sys.argv[:1]
    query_fill.main()
    scale.main()
    sys.argv = argv
    compare.main()


if __name__ == "__main__":
    main()
