"""API semantics on top of the store: create/get/list/update/patch/delete plus controllers."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import ApiError
from .kinds import KINDS, Kind
from .managedfields import update_managed_fields
from .patch import PatchError, json_patch, merge_patch, strategic_merge
from .selectors import matcher, parse_field_selector, parse_label_selector
from .store import Store, copy_json
from .validation import (
    apply_defaults,
    decode_check,
    keep_status_on_update,
    reset_status_on_create,
    validate,
)

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

_SYSTEM_META = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generation",
)
# The order ObjectMeta fields come out of Go's JSON encoder.
_META_ORDER = (
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
_NAME_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def now_rfc3339() -> str:
    """UTC time with second precision, as metav1.Time serialises."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _ordered(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    ordered_meta = {k: meta[k] for k in _META_ORDER if k in meta}
    ordered_meta.update({k: v for k, v in meta.items() if k not in ordered_meta})
    out: dict[str, Any] = {
        "kind": kind.kind,
        "apiVersion": kind.api_version,
        "metadata": ordered_meta,
    }
    out.update({k: v for k, v in obj.items() if k not in out})
    return out


def _without_times(obj: dict[str, Any]) -> dict[str, Any]:
    """obj with managedFields timestamps blanked, to spot no-op writes."""
    meta = obj.get("metadata", {})
    fields = [{**e, "time": None} for e in meta.get("managedFields") or []]
    return {**obj, "metadata": {**meta, "managedFields": fields}}


@dataclass(frozen=True)
class ListQuery:
    """The list options the fake honours."""

    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""


class Cluster:
    """One fake cluster's API behaviour; all writes go through here."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reads -----------------------------------------------------------------------------
    def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        """GET one object (a copy), or 404."""
        with self.store.lock:
            obj = self.store.get(kind.resource, namespace or "", name)
            if obj is None:
                raise errors.not_found(kind.resource, name, kind.group)
            return copy_json(obj)

    def list(self, kind: Kind, namespace: str | None, query: ListQuery) -> dict[str, Any]:
        """LIST with selectors and limit/continue paging, shaped like a *List object."""
        labels = parse_label_selector(query.label_selector)
        fields = parse_field_selector(query.field_selector, kind.field_labels)
        match = matcher(kind.resource, labels, fields, kind.field_labels)
        scope = hashlib.sha256(
            json.dumps([namespace, query.label_selector, query.field_selector]).encode()
        ).hexdigest()[:12]
        with self.store.lock:
            after = None
            list_rv = self.store.resource_version
            if query.continue_token:
                if query.resource_version not in ("", "0"):
                    raise errors.bad_request(
                        "specifying resource version is not allowed when using continue"
                    )
                list_rv, after = self._decode_continue(kind, namespace, query.continue_token, scope)
            page = self.store.page(
                kind.resource,
                namespace if kind.namespaced else None,
                match,
                max(query.limit, 0),
                after,
                count_remaining=labels.empty and fields.empty,
            )
            # Items of built-in lists carry no kind/apiVersion on the real server either.
            items = [
                {k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in page.items
            ]
            items = copy_json(items)
        metadata: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if page.last_key is not None:
            metadata["continue"] = self._encode_continue(
                kind, namespace, page.last_key, list_rv, scope, self.store.continue_era
            )
            if page.remaining is not None:
                metadata["remainingItemCount"] = page.remaining
        return {
            "kind": kind.list_kind,
            "apiVersion": kind.api_version,
            "metadata": metadata,
            "items": items,
        }

    @staticmethod
    def _encode_continue(
        kind: Kind, namespace: str | None, key: tuple[str, str], rv: int, scope: str, era: int
    ) -> str:
        # Same shape as apiserver's storage.EncodeContinue, plus a selector fingerprint.
        start = f"{key[0]}/{key[1]}" if kind.namespaced and namespace is None else key[1]
        token = {
            "v": "meta.k8s.io/v1",
            "rv": rv,
            "start": start + "\x00",
            "scope": scope,
            "era": era,
        }
        raw = json.dumps(token, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_continue(
        self, kind: Kind, namespace: str | None, token: str, scope: str
    ) -> tuple[int, tuple[str, str]]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            rv = int(data["rv"])
            start = str(data["start"]).rstrip("\x00")
            if data.get("v") != "meta.k8s.io/v1":
                raise ValueError("continue key is not valid")
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.bad_request(f"invalid continue token: {exc}") from None
        if data.get("scope") != scope:
            # The real server silently applies the new selectors; the fake refuses so tests
            # catch clients that change selectors or namespace between chunks.
            raise errors.bad_request(
                "invalid continue token: the namespace, label and field selectors must be the "
                "same as in the request that returned it"
            )
        if kind.namespaced and namespace is None:
            ns, _, name = start.partition("/")
            key = (ns, name)
        else:
            key = (namespace or "", start)
        if data.get("era") != self.store.continue_era:
            fresh = self._encode_continue(
                kind, namespace, key, self.store.resource_version, scope, self.store.continue_era
            )
            err = errors.expired()
            err.metadata = {"continue": fresh}
            raise err
        return rv, key

    # -- writes ----------------------------------------------------------------------------
    def create(
        self,
        kind: Kind,
        namespace: str | None,
        body: Any,
        manager: str,
        *,
        dry_run: bool = False,
        keep_status: bool = False,
    ) -> dict[str, Any]:
        """POST: validate, default and store a new object; 201 material."""
        obj = self._new_object(kind, namespace, body, keep_status)
        meta = obj["metadata"]
        with self.store.lock:
            ns_key = meta.get("namespace", "")
            if kind.namespaced:
                self._check_namespace_accepts(kind, ns_key, meta["name"])
            if self.store.get(kind.resource, ns_key, meta["name"]) is not None:
                raise errors.already_exists(kind.resource, meta["name"], kind.group)
            now = now_rfc3339()
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now
            if kind.has_generation:
                meta["generation"] = 1
            meta["managedFields"] = update_managed_fields(None, obj, manager, kind.api_version, now)
            if dry_run:
                return copy_json(_ordered(kind, obj))
            meta["resourceVersion"] = str(self.store.next_rv())
            obj = _ordered(kind, obj)
            self.store.put(kind.resource, obj, "create")
            if kind.resource == "namespaces":
                self._ensure_default_service_account(meta["name"])
            return copy_json(obj)

    def _new_object(
        self, kind: Kind, namespace: str | None, body: Any, keep_status: bool
    ) -> dict[str, Any]:
        """Decode, place, default and validate a create body (no storage access)."""
        decode_check(kind, body)
        obj = copy_json(body)
        meta = obj.get("metadata") or {}
        obj["metadata"] = meta
        self._place(kind, namespace, meta)
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(random.choice(_NAME_SUFFIX_CHARS) for _ in range(5))
            meta["name"] = meta["generateName"] + suffix
        for field in _SYSTEM_META:
            meta.pop(field, None)
        status = obj.get("status")
        apply_defaults(kind, obj)
        reset_status_on_create(kind, obj)
        if keep_status and status is not None:
            obj["status"] = status
        problems = validate(kind, obj)
        if problems:
            name = meta.get("name") or meta.get("generateName", "")
            raise errors.invalid(kind.kind, name, problems, kind.group)
        return obj

    def _check_namespace_accepts(self, kind: Kind, namespace: str, name: str) -> None:
        """404 for a missing namespace, 403 for one being deleted (NamespaceLifecycle)."""
        if self.store.get("namespaces", "", namespace) is None:
            raise errors.not_found("namespaces", namespace)
        if self._terminating(namespace):
            raise errors.ApiError(
                403,
                "Forbidden",
                f'{kind.resource} "{name}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                {"name": name, "kind": kind.resource},
            )

    def update(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        body: Any,
        manager: str,
        *,
        dry_run: bool = False,
        verb: str = "update",
        keep_status: bool = False,
    ) -> dict[str, Any]:
        """PUT: replace an existing object (resourceVersion optional, stale = 409).

        keep_status=True lets a seeding caller set status, which PUT on the main resource
        would otherwise take from the stored object.
        """
        decode_check(kind, body)
        obj = copy_json(body)
        meta = obj.get("metadata") or {}
        obj["metadata"] = meta
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        meta["name"] = name
        self._place(kind, namespace, meta)
        with self.store.lock:
            old = self.store.get(kind.resource, namespace or "", name)
            if old is None:
                raise errors.not_found(kind.resource, name, kind.group)
            return self._replace(
                kind, old, obj, manager, dry_run=dry_run, verb=verb, keep_status=keep_status
            )

    def _replace(
        self,
        kind: Kind,
        old: dict[str, Any],
        obj: dict[str, Any],
        manager: str,
        *,
        dry_run: bool,
        verb: str,
        keep_status: bool = False,
    ) -> dict[str, Any]:
        meta = obj["metadata"]
        old_meta = old["metadata"]
        wanted_rv = meta.get("resourceVersion")
        if wanted_rv and wanted_rv != old_meta["resourceVersion"]:
            raise errors.conflict(kind.resource, meta["name"], kind.group)
        for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        meta["managedFields"] = old_meta.get("managedFields", [])
        meta.pop("resourceVersion", None)
        apply_defaults(kind, obj)
        if not (keep_status and "status" in obj):
            keep_status_on_update(kind, old, obj)
        problems = validate(kind, obj, old)
        if problems:
            raise errors.invalid(kind.kind, meta["name"], problems, kind.group)
        if kind.has_generation and _spec_of(obj) != _spec_of(old):
            meta["generation"] = old_meta.get("generation", 1) + 1
        meta["managedFields"] = update_managed_fields(
            old, obj, manager, kind.api_version, now_rfc3339()
        )
        meta["resourceVersion"] = old_meta["resourceVersion"]
        obj = _ordered(kind, obj)
        if _without_times(obj) == _without_times(old):
            # The real storage layer skips no-op writes: no new resourceVersion, no event.
            return copy_json(old)
        if dry_run:
            return copy_json(obj)
        obj["metadata"]["resourceVersion"] = str(self.store.next_rv())
        self.store.put(kind.resource, obj, verb)
        return copy_json(obj)

    def patch(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        content_type: str,
        raw: bytes,
        manager: str,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PATCH with merge, strategic-merge or JSON patch."""
        if content_type not in (MERGE_PATCH, STRATEGIC_PATCH, JSON_PATCH):
            if content_type == APPLY_PATCH:
                raise errors.unsupported_media_type(
                    "the fake apiserver does not implement server-side apply "
                    "(application/apply-patch+yaml)"
                )
            raise errors.unsupported_media_type()
        try:
            patch = json.loads(raw or b"null")
        except ValueError as exc:
            raise errors.bad_request(f"error decoding patch: {exc}") from None
        if content_type != JSON_PATCH and not isinstance(patch, dict):
            raise errors.bad_request(
                "error decoding patch: json: cannot unmarshal array into Go value of type "
                "map[string]interface {}"
            )
        with self.store.lock:
            old = self.store.get(kind.resource, namespace or "", name)
            if old is None:
                raise errors.not_found(kind.resource, name, kind.group)
            try:
                if content_type == JSON_PATCH:
                    new = json_patch(old, patch)
                elif content_type == MERGE_PATCH:
                    new = merge_patch(old, patch)
                else:
                    new = strategic_merge(kind.resource, old, patch)
            except PatchError:
                raise errors.json_patch_failed() from None
            new = copy_json(new)
            decode_check(kind, new)
            meta = new.setdefault("metadata", {})
            if meta.get("name") != name:
                raise errors.bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on "
                    f"the URL ({name})"
                )
            if kind.namespaced and meta.get("namespace") != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            # The patched object keeps the stored resourceVersion unless the patch set one,
            # so a stale resourceVersion inside a patch becomes a 409 precondition failure.
            return self._replace(kind, old, new, manager, dry_run=dry_run, verb="patch")

    def delete(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE: Status Success for plain objects, the Terminating object for namespaces."""
        with self.store.lock:
            old = self.store.get(kind.resource, namespace or "", name)
            if old is None:
                raise errors.not_found(kind.resource, name, kind.group)
            self._check_preconditions(kind, old, (options or {}).get("preconditions") or {})
            if dry_run:
                return copy_json(old) if kind.resource == "namespaces" else self._deleted(kind, old)
            if kind.resource == "namespaces":
                return self._delete_namespace(old)
            self.store.remove(kind.resource, namespace or "", name)
            if kind.resource == "serviceaccounts" and name == "default":
                # The serviceaccounts controller puts `default` straight back.
                self._ensure_default_service_account(namespace or "")
            return self._deleted(kind, old)

    def delete_collection(
        self, kind: Kind, namespace: str | None, query: ListQuery
    ) -> dict[str, Any]:
        """DELETE on a collection: remove every match and return them as a list."""
        listed = self.list(kind, namespace, ListQuery(query.label_selector, query.field_selector))
        with self.store.lock:
            for item in listed["items"]:
                meta = item["metadata"]
                if self.store.get(kind.resource, meta.get("namespace", ""), meta["name"]):
                    self.delete(kind, meta.get("namespace"), meta["name"])
        return listed

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _place(kind: Kind, namespace: str | None, meta: dict[str, Any]) -> None:
        """Reconcile metadata.namespace with the URL, like EnsureObjectNamespaceMatches..."""
        if not kind.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        meta["namespace"] = namespace

    def _terminating(self, namespace: str) -> bool:
        ns = self.store.get("namespaces", "", namespace)
        return bool(ns and ns.get("status", {}).get("phase") == "Terminating")

    @staticmethod
    def _check_preconditions(kind: Kind, old: dict[str, Any], pre: dict[str, Any]) -> None:
        meta = old["metadata"]
        for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            if pre.get(field) and pre[field] != meta.get(field):
                raise ApiError(
                    409,
                    "Conflict",
                    "Operation cannot be fulfilled on "
                    f'{errors.qualified(kind.resource, kind.group)} "{meta["name"]}": '
                    f"Precondition failed: {label} in precondition: {pre[field]}, "
                    f"{label} in object meta: {meta.get(field)}",
                    {"name": meta["name"], "kind": kind.resource},
                )

    @staticmethod
    def _deleted(kind: Kind, old: dict[str, Any]) -> dict[str, Any]:
        details: dict[str, Any] = {"name": old["metadata"]["name"]}
        if kind.group:
            details["group"] = kind.group
        details["kind"] = kind.resource
        details["uid"] = old["metadata"].get("uid")
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _delete_namespace(self, old: dict[str, Any]) -> dict[str, Any]:
        """Terminate, empty and remove a namespace in one go (the real one takes seconds)."""
        name = old["metadata"]["name"]
        terminating = copy_json(old)
        terminating["metadata"]["deletionTimestamp"] = now_rfc3339()
        terminating["metadata"]["resourceVersion"] = str(self.store.next_rv())
        terminating["status"] = {"phase": "Terminating"}
        self.store.put("namespaces", terminating, "update")
        for kind in KINDS.values():
            if kind.namespaced:
                for obj in list(self.store.iter_objects(kind.resource, name)):
                    self.store.remove(kind.resource, name, obj["metadata"]["name"])
        self.store.remove("namespaces", "", name)
        return copy_json(terminating)

    def _ensure_default_service_account(self, namespace: str) -> None:
        """What the serviceaccounts controller does for every live namespace."""
        if self.store.get("namespaces", "", namespace) is None or self._terminating(namespace):
            return
        if self.store.get("serviceaccounts", namespace, "default") is not None:
            return
        body = {"metadata": {"name": "default", "namespace": namespace}}
        self.create(KINDS["serviceaccounts"], namespace, body, "kube-controller-manager")

    def seed_system_namespaces(self, extra: int = 0) -> None:
        """The namespaces a fresh cluster has, plus ns-0001..ns-N."""
        width = max(4, len(str(extra)))
        names = [*SYSTEM_NAMESPACES, *(f"ns-{i:0{width}d}" for i in range(1, extra + 1))]
        for name in names:
            self.create(KINDS["namespaces"], None, {"metadata": {"name": name}}, "kube-apiserver")


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}
