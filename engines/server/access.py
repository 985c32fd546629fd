"""Who a server answers: the API key its clients must send, and for longform's own
server the Host names and web origins it answers besides addresses and localhost; where
each server reads its key; and the warning for a server listening beyond this machine.
(Light on purpose: the command line and the server's start read it before anything
heavy is imported.)"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# Where each server reads its API key: longform's own, llama-cpp-python's (its settings
# read the environment) and vLLM's.
API_KEY_ENV = "LONGFORM_API_KEY"
LLAMA_CPP_KEY_ENV = "API_KEY"
VLLM_KEY_ENV = "VLLM_API_KEY"
KEY_REFERENCE = '"$LONGFORM_API_KEY"'


@dataclass(frozen=True)
class Access:
    """Who a started server answers: the API key clients must send (None: anyone),
    and for longform's own server the Host names and web origins it answers besides
    addresses and localhost."""

    api_key: str | None = None
    hosts: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()

    def secrets(self, env_name: str) -> dict[str, str]:
        return {env_name: self.api_key} if self.api_key else {}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name, without port) is this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, api_key: str | None) -> str | None:
    """What to tell when a server listens beyond this machine."""
    if is_loopback(host):
        return None
    key = "" if api_key else ", with no API key (--api-key)"
    return f"warning: listening on {host}: any machine that reaches this one can ask the model{key}"
