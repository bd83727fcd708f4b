"""The demo neighbourhood: ``flask seed-demo`` (cli.py) and the builder it runs (seed.py)."""
