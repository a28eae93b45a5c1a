"""The error every kubeconfig, address and certificate check raises, with a person's message."""

from __future__ import annotations


class KubeconfigError(Exception):
    """A kubeconfig, API server address or certificate that cannot be accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
