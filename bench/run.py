"""Run every benchmark Retain has so far and print its figures."""

from bench import seed_score


def main() -> None:
    """Each benchmark prints its own table."""
    seed_score.main()


if __name__ == "__main__":
    main()
