"""Help and completion answer at once: building every command of the command line
loads none of the libraries the commands run on (the database, the text measures, the
engines, the terminal UI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.processes import longform, one_line_error

# What a command runs on, never what its help needs.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "numpy",
    "llama_cpp",
    "lingua",
    "lemminflect",
    "wordfreq",
    "jieba",
    "textual",
    "openai",
    "langchain_core",
    "fastapi",
    "uvicorn",
    "ebooklib",
    "docx",
)

PROBE = """
import sys
import typer.main
from app.main import cli

group = typer.main.get_command(cli)
ctx = group.make_context("longform", ["--help"], resilient_parsing=True)
for name in group.list_commands(ctx):
    command = group.get_command(ctx, name)
    command.get_help(ctx)
    for sub in getattr(command, "commands", {}).values():
        sub.get_help(ctx)
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""


def test_building_every_command_and_its_help_loads_no_heavy_library() -> None:
    probe = f"HEAVY = {HEAVY!r}\n" + PROBE
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_every_command_answers_its_help() -> None:
    """Each command's help runs (a name the lazy imports missed would fail here)."""
    import typer.main
    from typer.testing import CliRunner

    from app.main import cli as app

    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0, top.output
    group = typer.main.get_command(app)
    ctx = group.make_context("longform", [], resilient_parsing=True)
    names = group.list_commands(ctx)
    assert {"write", "batch", "serve", "memory", "outline", "eval"} <= set(names)
    for name in names:
        command = group.get_command(ctx, name)
        subs = sorted(getattr(command, "commands", {}) or [])
        for args in [[name]] + [[name, sub] for sub in subs]:
            result = runner.invoke(app, [*args, "--help"])
            assert result.exit_code == 0, (args, result.output)
            assert "Usage" in result.output


def test_a_help_that_is_an_options_value_still_runs_the_command(longform_home: Path) -> None:
    """``--help`` given as an option's value is that value: the command runs (and opens
    its context when it needs it) instead of failing for want of one."""
    done = longform("memory", "set", "1", "--text", "--help", home=longform_home)
    assert done.returncode == 2, done.stderr
    assert one_line_error(done) == "longform: error: no memory with id 1"
