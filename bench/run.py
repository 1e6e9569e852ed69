"""Run every benchmark Retain has so far and print its figures."""

from bench import briefing, memory, seed_score, slack


def main() -> None:
    """Each benchmark prints its own table."""
    seed_score.main()
    memory.main()
    slack.main()
    briefing.main()


if __name__ == "__main__":
    main()
