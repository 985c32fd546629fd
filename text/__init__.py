"""Text tools every layer uses, from the libraries made for them: words (the count a
reader makes, and LongBench-Write's for its length score), sentences, and languages
(which one a text is in, which one an instruction asks for, their names).

Nothing here knows of works, models or the database.
"""
