from storage.wordcount import count_words, is_cjk_heavy


def test_english_words_are_runs_of_ascii_letters() -> None:
    assert count_words("Hello, world! It's 2024.") == 4  # Hello world It s
    assert count_words("state-of-the-art") == 4


def test_digits_and_punctuation_do_not_count() -> None:
    assert count_words("123 456 ... --- !!!") == 0
    assert count_words("") == 0


def test_each_cjk_character_is_a_word() -> None:
    assert count_words("你好世界") == 4
    assert count_words("我爱Python编程") == 5  # 我 爱 Python 编 程
    assert count_words("，。！") == 0


def test_cjk_detection() -> None:
    assert is_cjk_heavy("法真简介，200字左右")
    assert not is_cjk_heavy("Write a 100-word email")
