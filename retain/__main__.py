"""`python -m retain`."""

from retain.cli import main

main()
