"""``python -m engines.server --model FILE``: longform's own server (``longform serve``
runs it). The model is loaded on a thread while the web framework is imported: each
takes about as long as the other (measured: 2-3 s and 2 s on two busy cores; llama.cpp
loads without holding the GIL), and the start-up is then the longer of the two, not
their sum. This module imports neither, so it does not wait for one before the other."""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any

from engines.server.access import API_KEY_ENV


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m engines.server",
        description="longform's OpenAI-compatible server on a GGUF model (Ctrl-C stops it). "
        f"Clients must send the API key in ${API_KEY_ENV} when it is set.",
    )
    p.add_argument("--model", help="a GGUF file (default: the embedded model)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--profile", default="native", help="long-context profile")
    p.add_argument("--n-ctx", type=int, default=0, help="the window (0: the model's)")
    p.add_argument("--threads", type=int, default=None, help="decode threads")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name answered besides addresses and localhost (*: any)",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web page's origin answered, as http://localhost:3000 (*: any)",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        default=0,
        help="the most one answer may ask for (default: the window)",
    )
    p.add_argument("--max-body", type=int, help="bytes of a request body (default 4 MiB)")
    p.add_argument("--max-connections", type=int, help="open connections (default 64)")
    p.add_argument(
        "--head-timeout",
        type=float,
        help="seconds a client has to send a request's head (default 10)",
    )
    return p  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    loaded: dict[str, Any] = {}

    def load() -> None:
        from engines.server.slots import open_slots

        try:
            loaded["slots"] = open_slots(
                args.model, profile=args.profile, n_ctx=args.n_ctx, threads=args.threads
            )
        except BaseException as exc:  # raised again on the main thread
            loaded["error"] = exc

    loading = threading.Thread(target=load, name="longform-load")
    loading.start()
    from engines.server.longform_server import ServerConfig, run

    given = {"max_body": args.max_body, "max_connections": args.max_connections,
             "head_timeout": args.head_timeout}  # fmt: skip
    config = ServerConfig(
        host=args.host,
        port=args.port,
        # From the environment, not the command line, where any user's `ps` shows it.
        api_key=os.environ.get(API_KEY_ENV) or None,
        allow_hosts=tuple(args.allow_host),
        allow_origins=tuple(args.allow_origin),
        max_tokens=args.max_tokens,
        **{k: v for k, v in given.items() if v is not None},
    )
    loading.join()
    if "error" in loaded:
        raise loaded["error"]
    return run(loaded["slots"], config)


if __name__ == "__main__":
    raise SystemExit(main())
