from pathlib import Path

import pytest
from jinja2 import UndefinedError

import prompts


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(UndefinedError):
        prompts.render("draft_user", instruction="Write a poem")


def test_draft_prompt_in_english_and_chinese() -> None:
    en = prompts.render("draft_user", instruction="Write a poem.", target_words=300, language="en")
    assert en == "Write a poem.\n\nThe text should be about 300 words long."
    zh = prompts.render("draft_user", instruction="写一首诗。", target_words=300, language="zh")
    assert zh == "写一首诗。\n\n全文约 300 字。"


def test_a_users_template_overrides_the_builtin(tmp_path: Path) -> None:
    (tmp_path / "draft_user.j2").write_text("Mine: {{ instruction }}")
    prompts.use_override_dir(tmp_path)
    try:
        text = prompts.render("draft_user", instruction="X", target_words=1, language="en")
        assert text == "Mine: X"
    finally:
        prompts.use_override_dir(None)


def test_every_template_parses() -> None:
    from jinja2 import Environment

    env = Environment()
    for name in prompts.template_names():
        env.parse((prompts.TEMPLATES / f"{name}.j2").read_text())
