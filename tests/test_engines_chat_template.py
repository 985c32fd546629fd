from engines.chat_template import ChatTemplate


def test_chatml_answer_prompt_ends_with_the_assistant_header() -> None:
    t = ChatTemplate(None)
    text = t.render([{"role": "user", "content": "Hi"}])
    assert text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_continuing_leaves_the_assistant_turn_open() -> None:
    t = ChatTemplate(None)
    msgs = [{"role": "user", "content": "Write."}, {"role": "assistant", "content": "Once upon"}]
    text = t.render(msgs, continue_final=True)
    assert text == "<|im_start|>user\nWrite.<|im_end|>\n<|im_start|>assistant\nOnce upon"


def test_a_continued_prompt_extends_the_previous_one() -> None:
    # The continuation layout relies on this: prompt + completion is a prefix of the next prompt.
    t = ChatTemplate(None)
    head = [{"role": "user", "content": "Write."}]
    first = t.render([*head, {"role": "assistant", "content": "A"}], continue_final=True)
    second = t.render([*head, {"role": "assistant", "content": "A and B"}], continue_final=True)
    assert second.startswith(first)
