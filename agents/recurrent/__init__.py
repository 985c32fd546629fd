"""Recurrent mode (RecurrentGPT): one recurrent step (passage, summary, options),
the answers it reads, and the runner of its steps."""
