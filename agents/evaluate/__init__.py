"""Evaluation: LongBench-Write's length score, the quality judge, and whether a
model can write a language."""
