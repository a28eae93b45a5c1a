"""A strict fake Tencent Cloud TKE API endpoint, spoken to by the real SDK over HTTP."""

from __future__ import annotations

from tests.tkeapi.server import RecordedRequest, TkeApiServer, make_kubeconfig

__all__ = ["RecordedRequest", "TkeApiServer", "make_kubeconfig"]
