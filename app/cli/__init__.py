"""The ``longform`` command line (typer), one module per command group.

A command module imports at its top only what typer needs to build the commands
(typer, the option types and the closed sets of ``storage.vocabulary``); the core a
command runs (the session, storage, the engines) is imported inside the command, so
``longform --help``, any command's help and shell completion answer without loading
SQLAlchemy, numpy or a model library (``tests/test_cli_startup.py`` holds it;
``python -m bench.help_speed`` times it).
"""
