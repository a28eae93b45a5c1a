"""metadata.managedFields bookkeeping for `Update` operations (no server-side apply)."""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str, ...]

# Map-typed fields get a "." entry in fieldsV1 (the set itself is owned); structs do not.
_MAP_FIELDS = {"labels", "annotations", "data", "stringData", "matchLabels", "nodeSelector"}
# Top-level fields the field manager never tracks on the main resource.
_UNTRACKED_TOP = {"apiVersion", "kind", "status"}
_TRACKED_META = {"labels", "annotations", "finalizers", "ownerReferences"}
# Lists of objects merged by a key; every other list is atomic (one leaf).
_KEYED_LISTS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "secrets": "name",
}


def _leaves(value: Any, prefix: Path, out: dict[Path, Any], parent_key: str = "") -> None:
    if isinstance(value, dict) and value:
        if parent_key in _MAP_FIELDS or (prefix and prefix[-1].startswith("k:")):
            out[(*prefix, ".")] = None
        for k, v in value.items():
            _leaves(v, (*prefix, f"f:{k}"), out, k)
        return
    key = _KEYED_LISTS.get(parent_key)
    if (
        isinstance(value, list)
        and key
        and value
        and all(isinstance(i, dict) and key in i for i in value)
    ):
        for item in value:
            ident = "k:" + json.dumps({key: item[key]}, separators=(",", ":"))
            _leaves(item, (*prefix, ident), out)
        return
    out[prefix] = value


def field_paths(obj: dict[str, Any]) -> dict[Path, Any]:
    """Every tracked leaf path of an object mapped to its value."""
    out: dict[Path, Any] = {}
    for k, v in obj.items():
        if k in _UNTRACKED_TOP:
            continue
        if k == "metadata":
            for mk in _TRACKED_META:
                if mk in v:
                    _leaves(v[mk], ("f:metadata", f"f:{mk}"), out, mk)
            continue
        _leaves(v, (f"f:{k}",), out, k)
    return out


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """Render a set of paths as the nested fieldsV1 object."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part, {})
    return root


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """Parse a fieldsV1 object back into leaf paths."""
    paths: set[Path] = set()
    for k, v in tree.items():
        if v:
            paths |= from_fields_v1(v, (*prefix, k))
        else:
            paths.add((*prefix, k))
    return paths


def update_managed_fields(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    api_version: str,
    now: str,
) -> list[dict[str, Any]]:
    """The managedFields list after `manager` wrote `new` over `old` with an Update."""
    new_paths = field_paths(new)
    old_paths = field_paths(old) if old is not None else {}
    changed = {p for p, v in new_paths.items() if p not in old_paths or old_paths[p] != v}
    gone = set(old_paths) - set(new_paths)
    entries: list[dict[str, Any]] = []
    mine: set[Path] = set(changed)
    found = False
    previous = (old or {}).get("metadata", {}).get("managedFields") or []
    for entry in previous:
        owned = from_fields_v1(entry.get("fieldsV1") or {})
        is_mine = (
            entry.get("manager") == manager
            and entry.get("operation") == "Update"
            and entry.get("apiVersion") == api_version
            and not entry.get("subresource")
        )
        if is_mine:
            found = True
            owned = (owned - gone) | mine
            mine = owned
            entry = {**entry, "time": now if changed or gone else entry.get("time", now)}
        else:
            owned = owned - gone - changed
        if owned:
            entries.append({**entry, "fieldsV1": to_fields_v1(owned)})
    if not found and mine:
        entries.append(
            {
                "manager": manager,
                "operation": "Update",
                "apiVersion": api_version,
                "time": now,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(mine),
            }
        )
    return entries
