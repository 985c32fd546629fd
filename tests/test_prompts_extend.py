"""The extender's prompts, rendered (exact text: a change to a template shows here)."""

from __future__ import annotations

import pytest

import prompts


def test_expand_in_english() -> None:
    text = prompts.render(
        "extend_expand", text="The lamp was lit.", words=40, instruction="", language="en"
    )
    assert text == (
        "Rewrite the text below at about twice its length, about 40 words. Keep everything "
        "it tells, in the same order, and add details: what people see, hear, think and say. "
        "Write only the rewritten text.\n\n"
        "The lamp was lit."
    )


def test_expand_in_chinese_with_the_task() -> None:
    text = prompts.render(
        "extend_expand", text="灯亮了。", words=40, instruction="写一个故事", language="zh"
    )
    assert text == (
        "把下面这段文字改写得更长，约 40 字。保留它讲的每一件事，顺序不变，加入更多细节："
        "看到的、听到的、想到的和说出的话。只写改写后的正文。\n\n"
        "这段文字的写作任务：写一个故事\n\n"
        "灯亮了。"
    )


def test_continue_in_english_with_the_task() -> None:
    text = prompts.render(
        "extend_continue",
        draft="The lamp was lit.\n\nThe boat came home.",
        words=1500,
        instruction="A story about a keeper.",
        language="en",
    )
    assert text == (
        "Rewrite the draft below as a longer text of about 1500 words. Tell everything the "
        "draft tells, in the same order, with more detail: what people see, hear, think and "
        "say. Write only the text.\n\n"
        "The task it was written for: A story about a keeper.\n\n"
        "Draft:\n\n"
        "The lamp was lit.\n\nThe boat came home."
    )


def test_continue_in_chinese() -> None:
    text = prompts.render(
        "extend_continue", draft="灯亮了。", words=1500, instruction="", language="zh"
    )
    assert text == (
        "把下面的草稿改写成一篇更长的文章，约 1500 字。按原来的顺序讲出草稿里的每一件事，"
        "写得更细致：看到的、听到的、想到的和说出的话。只写正文。\n\n"
        "草稿：\n\n"
        "灯亮了。"
    )


def test_the_extend_prompts_need_all_their_variables() -> None:
    with pytest.raises(prompts.PromptError, match="UndefinedError"):
        prompts.render("extend_continue", draft="x", words=10, language="en")
