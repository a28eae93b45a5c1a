"""Server-side printing: meta.k8s.io/v1 Table responses for kubectl's `get`."""

from __future__ import annotations

import calendar
import time
from typing import Any

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace.",
    "priority": 0,
}
_AGE_COLUMN = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this "
    "object was created.",
    "priority": 0,
}


def _column(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": "", "description": description, "priority": 0}


# Columns after Name and before Age, per resource, with a cell function each.
_EXTRA_COLUMNS: dict[str, list[tuple[dict[str, Any], Any]]] = {
    "namespaces": [
        (
            _column("Status", "The status of the namespace"),
            lambda o: (o.get("status") or {}).get("phase", ""),
        )
    ],
    "secrets": [
        (_column("Type", "The type of the secret"), lambda o: o.get("type", "")),
        (
            _column("Data", "The number of entries in the secret", "integer"),
            lambda o: len(o.get("data") or {}),
        ),
    ],
    "serviceaccounts": [
        (
            _column(
                "Secrets", "The number of secrets associated with the service account", "integer"
            ),
            lambda o: len(o.get("secrets") or []),
        )
    ],
}


def wants_table(accept: str | None) -> bool:
    """Whether the Accept header asks for server-side printing."""
    return bool(accept) and "as=Table" in accept


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: dict[str, Any]) -> str:
    stamp = obj.get("metadata", {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    return human_duration(time.time() - created)


def _row(resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    extra = _EXTRA_COLUMNS.get(resource, [])
    cells = [obj["metadata"]["name"], *(cell(obj) for _, cell in extra), _age(obj)]
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {
        "cells": cells,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
        },
    }


def to_table(
    resource: str, objects: list[dict[str, Any]], list_meta: dict[str, Any], headers: bool = True
) -> dict[str, Any]:
    """A Table for a list (or a single object passed as a one-item list)."""
    columns = [_NAME_COLUMN, *(c for c, _ in _EXTRA_COLUMNS.get(resource, [])), _AGE_COLUMN]
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns if headers else None,
        "rows": [_row(resource, o) for o in objects],
    }
    return table
