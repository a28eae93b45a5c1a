"""JSON merge patch (RFC 7386), strategic merge patch and JSON patch (RFC 6902)."""

from __future__ import annotations

from typing import Any

from .store import copy_json


class PatchError(Exception):
    """A patch that cannot be applied to the current object."""


# -- merge patch ---------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge per key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy_json(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch -----------------------------------------------------------------
# Where the pod spec sits inside each kind, so the PodSpec list strategies apply there too.
_POD_SPEC_AT: dict[str, tuple[str, ...]] = {
    "pods": ("spec",),
    "deployments": ("spec", "template", "spec"),
    "statefulsets": ("spec", "template", "spec"),
    "daemonsets": ("spec", "template", "spec"),
    "jobs": ("spec", "template", "spec"),
    "cronjobs": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# patchStrategy:"merge" lists in PodSpec and Container, with their patchMergeKey.
_POD_SPEC_LISTS: dict[tuple[str, ...], str] = {
    ("containers",): "name",
    ("initContainers",): "name",
    ("ephemeralContainers",): "name",
    ("imagePullSecrets",): "name",
    ("volumes",): "name",
    ("tolerations",): "",  # no strategy: atomic
}
for _c in ("containers", "initContainers", "ephemeralContainers"):
    _POD_SPEC_LISTS[(_c, "env")] = "name"
    _POD_SPEC_LISTS[(_c, "ports")] = "containerPort"
    _POD_SPEC_LISTS[(_c, "volumeMounts")] = "mountPath"
    _POD_SPEC_LISTS[(_c, "volumeDevices")] = "devicePath"

_SET = "$set"  # a list of scalars merged as a set (metadata.finalizers)


def list_merge_key(resource: str, path: tuple[str, ...]) -> str:
    """The merge key of the list at `path` ("" = replace the whole list)."""
    if path == ("metadata", "finalizers"):
        return _SET
    if path == ("metadata", "ownerReferences"):
        return "uid"
    if resource == "serviceaccounts" and path == ("secrets",):
        return "name"
    # ServiceAccount.imagePullSecrets has no patchStrategy, so it falls through to replace.
    prefix = _POD_SPEC_AT.get(resource)
    if prefix and path[: len(prefix)] == prefix:
        return _POD_SPEC_LISTS.get(path[len(prefix) :], "")
    return ""


def _strip(value: Any) -> Any:
    """A patch value with directives and nulls removed (for keys absent in the target)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and "$patch" in v)]
    return value


def strategic_merge(resource: str, target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a strategic merge patch to an object of `resource`."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    return _merge_map(resource, target, patch, ())


def _merge_map(
    resource: str, target: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]
) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return {}
    result = dict(target)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in (value or [])]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, dict):
            result[key] = _merge_map(
                resource, current if isinstance(current, dict) else {}, value, (*path, key)
            )
        elif isinstance(value, list):
            result[key] = _merge_list(resource, current, value, (*path, key))
        else:
            result[key] = value
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(resource: str, current: Any, patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    merge_key = list_merge_key(resource, path)
    if not merge_key or not isinstance(current, list):
        return _strip(patch)
    if merge_key == _SET:
        return current + [v for v in patch if v not in current]
    result = [copy_json(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        index = next(
            (
                i
                for i, c in enumerate(result)
                if isinstance(c, dict) and c.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip(item))
        else:
            result[index] = _merge_map(resource, result[index], item, path)
    return result


# -- JSON patch ----------------------------------------------------------------------------
def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    if not parts:
        raise PatchError(f"{op} operation does not apply: doc is missing path: {path!r}")
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: {path!r}")
    return node, parts[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    node = doc
    for part in _pointer(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: {path!r}")
    return node


def _list_index(node: list[Any], key: str, op: str, path: str, allow_end: bool) -> int:
    if key == "-" and allow_end:
        return len(node)
    if not key.isdigit() or int(key) > len(node) or (int(key) == len(node) and not allow_end):
        raise PatchError(f"{op} operation does not apply: index out of range: {path!r}")
    return int(key)


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return copy_json(value)
    node, key = _parent(doc, parts, "add", path)
    if isinstance(node, dict):
        node[key] = copy_json(value)
    elif isinstance(node, list):
        node.insert(_list_index(node, key, "add", path, True), copy_json(value))
    else:
        raise PatchError(f"add operation does not apply: doc is missing path: {path!r}")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    node, key = _parent(doc, _pointer(path), "remove", path)
    if isinstance(node, dict):
        if key not in node:
            raise PatchError(
                f"error in remove for path: '{path}': Unable to remove nonexistent key: {key}"
            )
        return doc, node.pop(key)
    if isinstance(node, list):
        return doc, node.pop(_list_index(node, key, "remove", path, False))
    raise PatchError(f"remove operation does not apply: doc is missing path: {path!r}")


def json_patch(doc: dict[str, Any], ops: Any) -> dict[str, Any]:
    """Apply RFC 6902 operations to a copy of doc; PatchError on any failure (incl. `test`)."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy_json(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError("Unexpected kind: unknown")
        kind, path = op.get("op"), op.get("path")
        if kind == "add":
            doc = _add(doc, path, op.get("value"))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, op.get("value"))
        elif kind == "move":
            doc, value = _remove(doc, op.get("from"))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, _get(doc, op.get("from"), "copy"))
        elif kind == "test":
            try:
                current = _get(doc, path, "test")
            except PatchError:
                current = None
            if current != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    if not isinstance(doc, dict):
        raise PatchError("patched document is not an object")
    return doc
