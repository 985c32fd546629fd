"""The ``longform`` command line (typer), one module per command group."""
