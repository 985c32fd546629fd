"""The remote client: any OpenAI-compatible server (vLLM, llama.cpp's), how it
continues an open turn, its errors, its sampling fields and its metrics."""
