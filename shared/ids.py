"""Unique, non-secret ids for the hot paths (click ids, request ids), cheaper than `secrets`.

`secrets` and `uuid4` read the kernel's random source at every call (~10 µs here, twice per click).
These ids need to be unique, not unguessable: a click id only names a click inside a reference the
server signs, a request id only ties log lines together. So a Mersenne Twister seeded from the
kernel once per process (and again in every forked child) draws them. Never use this for tokens,
passwords, links sent by email or anything that proves who someone is: use `secrets` for those.
"""

from __future__ import annotations

import os
import random

_generator = random.Random(os.urandom(32))


def _reseed() -> None:
    _generator.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def unique_hex(bits: int = 64) -> str:
    """A random id of `bits` bits as lowercase hex (64 bits: 16 characters)."""
    return f"{_generator.getrandbits(bits):0{bits // 4}x}"
