"""Development-only secrets, generated once into ``var/`` so ``make run`` needs no set-up.

Production (``DJANGO_DEBUG=0``) never reaches this module: settings refuse to start without
real keys from the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def development_value(path: Path, *, kind: str) -> str:
    """Read a generated key from ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    value = Fernet.generate_key().decode() if kind == "fernet" else secrets.token_urlsafe(50)
    # O_EXCL: when the web server and the worker start together only one of them writes.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
