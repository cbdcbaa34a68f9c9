"""`python -m cbewatch` runs the command line."""

from .cli import main

main()
