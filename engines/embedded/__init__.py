"""The embedded engine: llama.cpp in process, what its cache holds, and its
logits rules (prose, copy penalty)."""
