"""Batch: many works from one JSONL file, one batch item at a time per worker,
resumable and shared by every process that runs the same batch."""
