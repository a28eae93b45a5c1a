"""Development-only secrets, generated once into ``var/`` so ``make run`` needs no set-up.

Production (``DJANGO_DEBUG=0``) never reaches this module: settings refuse to start without
real keys from the environment.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet


def development_value(path: Path, *, kind: str) -> str:
    """Read a generated key from ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        return _wait_for_value(path)
    value = Fernet.generate_key().decode() if kind == "fernet" else secrets.token_urlsafe(50)
    # O_EXCL: when the web server and the worker start together only one of them writes.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _wait_for_value(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _wait_for_value(path: Path) -> str:
    """The other process may have created the file but not written it yet: give it a moment."""
    for _attempt in range(50):
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it and start again.")
