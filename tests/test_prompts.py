from pathlib import Path

import pytest
from jinja2 import Environment

import prompts
from agents.plan.chapters import PlanItem

PLAN = [
    PlanItem(1, "The keeper", "Introduce Elias and his lamp.", 300),
    PlanItem(2, "The storm", "A boat is lost; the light guides it home.", 300),
]


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(prompts.PromptError, match="prompt plan_user: UndefinedError"):
        prompts.render("plan_user", instruction="Write a poem")


def test_writer_plan_in_english() -> None:
    text = prompts.render(
        "writer_plan",
        instruction="Write a story.",
        target_words=600,
        plan=PLAN,
        about="",
        style="",
        voice="",
        summary="",
        language="en",
    )
    assert text == (
        "Write a story.\n\n"
        "About 600 words of flowing prose, in 2 parts. "
        'Part 1, under the heading "The keeper" (about 300 words): Introduce Elias and his lamp. '
        'Part 2, under the heading "The storm" (about 300 words): '
        "A boat is lost; the light guides it home."
    )


def test_writer_plan_in_chinese_with_a_summary_of_cut_text() -> None:
    text = prompts.render(
        "writer_plan",
        instruction="写一个故事。",
        target_words=600,
        plan=PLAN,
        about="",
        style="",
        voice="",
        summary="- 开头：灯塔。",
        language="zh",
    )
    assert text == (
        "写一个故事。\n\n"
        "全文约 600 字，用连贯的段落写成，共 2 个部分。"
        "第 1 部分，标题“The keeper”（约 300 字）：Introduce Elias and his lamp."
        "第 2 部分，标题“The storm”（约 300 字）：A boat is lost; the light guides it home.\n\n"
        "前面的部分已经写好，要点如下：\n- 开头：灯塔。"
    )


def test_a_single_section_gets_no_parts_listing() -> None:
    text = prompts.render(
        "writer_plan",
        instruction="Write a poem.",
        target_words=150,
        plan=PLAN[:1],
        about="",
        style="",
        voice="",
        summary="",
        language="en",
    )
    assert text == "Write a poem.\n\nAbout 150 words."


def test_planner_prompt() -> None:
    text = prompts.render(
        "plan_user",
        instruction="Write an essay.",
        target_words=2000,
        sections=5,
        context="",
        about=[],
        language="en",
    )
    assert text == "Task: Write an essay.\nLength: 2000 words\nParts: 5"


def test_the_writers_head_names_the_premise_before_the_plan() -> None:
    """The premise is in the user turn with the instruction and the plan: the same at
    every section, so the continuation's cached prefix holds."""
    text = prompts.render(
        "writer_plan",
        instruction="Write a story about a keeper.",
        target_words=600,
        plan=PLAN,
        about="the keeper, the lighthouse and Elias",
        style="",
        voice="",
        summary="",
        language="en",
    )
    assert text == (
        "Write a story about a keeper.\n"
        "It is about the keeper, the lighthouse and Elias, in every part.\n\n"
        "About 600 words of flowing prose, in 2 parts. "
        'Part 1, under the heading "The keeper" (about 300 words): Introduce Elias and his lamp. '
        'Part 2, under the heading "The storm" (about 300 words): '
        "A boat is lost; the light guides it home."
    )


def test_the_writers_head_names_the_premise_in_chinese() -> None:
    text = prompts.render(
        "writer_plan",
        instruction="写一个关于灯塔的故事。",
        target_words=600,
        plan=PLAN[:1],
        about="灯塔、守塔人",
        style="",
        voice="",
        summary="",
        language="zh",
    )
    assert (
        text == "写一个关于灯塔的故事。\n写的是灯塔、守塔人，每一部分都要写到。\n\n全文约 600 字。"
    )


def test_the_planner_is_told_what_every_goal_names() -> None:
    text = prompts.render(
        "plan_user",
        instruction="Write a story about a botanist on a generation ship.",
        target_words=3000,
        sections=8,
        context="",
        about=["botanist", "generation ship"],
        language="en",
    )
    assert text == (
        "Task: Write a story about a botanist on a generation ship.\n"
        "About: botanist, generation ship. Every part's goal names at least one of them.\n"
        "Length: 3000 words\nParts: 8"
    )


def test_the_premise_prompt() -> None:
    assert prompts.render("premise_user", instruction="Write a tale.") == "Task: Write a tale."
    system = prompts.render("premise_system", language="en")
    assert "people" in system and "places" in system and "things" in system


def test_a_users_template_overrides_the_builtin(tmp_path: Path) -> None:
    (tmp_path / "plan_user.j2").write_text("Mine: {{ instruction }}")
    prompts.use_override_dir(tmp_path)
    try:
        assert prompts.render("plan_user", instruction="X") == "Mine: X"
    finally:
        prompts.use_override_dir(None)


@pytest.mark.parametrize(
    "attack",
    [
        "{{ cycler.__init__.__globals__.os.popen('echo owned').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ instruction.__class__.__base__.__subclasses__() }}",
    ],
)
def test_a_users_template_renders_in_the_sandbox(tmp_path: Path, attack: str) -> None:
    (tmp_path / "plan_user.j2").write_text(attack)
    prompts.use_override_dir(tmp_path)
    try:
        with pytest.raises(prompts.PromptError, match=str(tmp_path / "plan_user.j2")):
            prompts.render("plan_user", instruction="X")
    finally:
        prompts.use_override_dir(None)


def test_every_template_parses() -> None:
    env = Environment()
    names = prompts.template_names()
    assert "writer_plan" in names and "plan_user" in names
    for name in names:
        env.parse((prompts.TEMPLATES / f"{name}.j2").read_text())


def test_the_revision_prompt_holds_the_instruction_and_the_length() -> None:
    text = prompts.render(
        "revise_section",
        text="The lamp was lit.",
        instruction="Make it darker.",
        task="A story about a keeper.",
        words=40,
        language="en",
    )
    assert text == (
        "Rewrite the text below as this instruction asks. Unless the instruction says "
        "otherwise, keep its length: about 40 words. Write only the rewritten text.\n\n"
        "Instruction: Make it darker.\n\n"
        "The text was written for this task: A story about a keeper.\n\n"
        "The lamp was lit."
    )


def test_the_revision_prompt_in_chinese() -> None:
    text = prompts.render(
        "revise_section",
        text="灯亮了。",
        instruction="写得更黑暗",
        task="",
        words=40,
        language="zh",
    )
    assert text == (
        "按照下面的要求改写这段文字。除非要求里另有说法，长度保持不变，约 40 字。"
        "只写改写后的正文。\n\n要求：写得更黑暗\n\n灯亮了。"
    )


def test_writer_characters_lists_each_sheet_on_a_line() -> None:
    sheets = ["Anna Vale (the keeper): Stubborn.", "Tom — Anna's brother."]
    assert prompts.render("writer_characters", characters=sheets, language="en") == (
        "The characters in this part, as the author keeps them:\n"
        "- Anna Vale (the keeper): Stubborn.\n"
        "- Tom — Anna's brother."
    )
    assert prompts.render("writer_characters", characters=sheets[1:], language="zh") == (
        "这一部分写到的人物（作者的人物设定）：\n- Tom — Anna's brother."
    )


def test_the_span_revision_prompt_holds_the_span_its_context_and_the_instruction() -> None:
    text = prompts.render(
        "revise_span",
        span="the first light",
        before="She watched ",
        after=" reach the roofs.",
        instruction="Make it darker.",
        task="",
        words=3,
        language="en",
    )
    assert text == (
        "Rewrite one passage of a text as this instruction asks. Unless the instruction "
        "says otherwise, keep its length: about 3 words. Write only the rewritten passage: "
        "it replaces the old one, and the text around it stays as it is, so do not write "
        "that again.\n\n"
        "Instruction: Make it darker.\n\n"
        "The text around it ([PASSAGE] marks where the passage stands):\n"
        "She watched [PASSAGE] reach the roofs.\n\n"
        "The passage to rewrite:\nthe first light"
    )
