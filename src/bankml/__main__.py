"""`python -m bankml` runs the CLI."""

from bankml.cli.main import run

run()
