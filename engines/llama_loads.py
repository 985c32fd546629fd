"""One llama.cpp model load at a time in this process.

llama-cpp-python quiets a load by pointing file descriptors 1 and 2 (and ``sys.stdout``,
``sys.stderr``) at /dev/null, then putting back what it found. Two loads at once in two
threads interleave: the later one saves the earlier one's /dev/null and puts it back
last, and the process's stdout and stderr stay on /dev/null for good. A batch did this
(one worker opening its engine while another opened its side engine): its ``--json``
summary went nowhere and it exited 0. Every load of a GGUF (a model, a vocabulary, its
metadata) holds ``LOADING``.
"""

from __future__ import annotations

import threading

# Re-entrant: a load may read the file's metadata first (``trained_context``).
LOADING = threading.RLock()
