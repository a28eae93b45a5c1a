"""Shared bits of the onboarding commands: who acts, and reading secrets from stdin."""

from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def owner_for(username: str | None):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f'No user named "{username}".')
    return user


def secret_from_stdin(what: str) -> str:
    """Secrets come on stdin, never in argv where `ps` and shell history would keep them."""
    if sys.stdin is None or sys.stdin.isatty():
        raise CommandError(f'Pipe the {what} on standard input, e.g.  printf %s "$VAR" | ...')
    value = sys.stdin.read().rstrip("\r\n")
    if not value:
        raise CommandError(f"The {what} read from standard input is empty.")
    return value
