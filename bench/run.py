"""Every benchmark, one command: writes BENCHMARKS.md (component tables print as they run)."""

from bench import compare


def main() -> None:
    """Retain against the peer on three model shapes, plus every component benchmark."""
    compare.main()


if __name__ == "__main__":
    main()
