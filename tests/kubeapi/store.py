"""The versioned object store: objects, resourceVersions, watch events and write history."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

Key = tuple[str, str]  # (namespace or "" for cluster-scoped, name)


def copy_json(value: Any) -> Any:
    """Deep-copy a JSON-shaped value; much faster than copy.deepcopy for our dicts."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


@dataclass(frozen=True)
class HistoryEntry:
    """One write as a test sees it: what changed, when, and a copy of the object after it."""

    time: float
    verb: str  # create, update, patch, delete
    kind: str  # resource plural, e.g. "secrets"
    namespace: str | None
    name: str
    resource_version: str
    object: dict[str, Any] | None


@dataclass(frozen=True)
class Event:
    """A watch event in the retained window; `obj` is never mutated after storing."""

    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: str
    namespace: str
    obj: dict[str, Any]
    previous: dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    """One chunk of a list: the items and where the next chunk starts."""

    items: list[dict[str, Any]]
    last_key: Key | None  # set when more keys follow
    remaining: int | None


class Store:
    """Objects per resource keyed by (namespace, name), kept sorted for cheap paging.

    Stored objects are replaced, never mutated, so watch events can share them safely.
    """

    def __init__(self, event_window: int = 10_000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.event_window = event_window
        self._objects: dict[str, dict[Key, dict[str, Any]]] = {}
        self._keys: dict[str, list[Key]] = {}
        self._events: list[Event] = []
        self._history: list[HistoryEntry] = []
        self._rv = 0
        # A watch from below watch_floor gets 410. Continue tokens carry the era they were
        # issued in and expire when it changes (an rv bound could not expire a token issued
        # at the current resourceVersion).
        self.watch_floor = 0
        self.continue_era = 0
        # Bumped by clear() so open watch streams notice the cluster was reset.
        self.epoch = 0

    # -- reading ---------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out."""
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object (shared; callers must copy before changing it)."""
        return self._objects.get(resource, {}).get((namespace, name))

    def count(self, resource: str) -> int:
        """How many objects of a resource exist."""
        return len(self._keys.get(resource, ()))

    def _range(self, resource: str, namespace: str | None) -> tuple[list[Key], int, int]:
        keys = self._keys.get(resource, [])
        if namespace is None:
            return keys, 0, len(keys)
        lo = bisect.bisect_left(keys, (namespace, ""))
        hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        return keys, lo, hi

    def iter_objects(self, resource: str, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects of a resource in key order, optionally within one namespace."""
        keys, lo, hi = self._range(resource, namespace)
        objects = self._objects.get(resource, {})
        for i in range(lo, hi):
            yield objects[keys[i]]

    def page(
        self,
        resource: str,
        namespace: str | None,
        match: Callable[[dict[str, Any]], bool],
        limit: int,
        after: Key | None,
        count_remaining: bool,
    ) -> Page:
        """Up to `limit` matching objects after key `after` (0 = no limit)."""
        keys, lo, hi = self._range(resource, namespace)
        objects = self._objects.get(resource, {})
        start = lo if after is None else max(lo, bisect.bisect_right(keys, after))
        items: list[dict[str, Any]] = []
        i = start
        while i < hi:
            obj = objects[keys[i]]
            i += 1
            if match(obj):
                items.append(obj)
                if limit and len(items) >= limit:
                    break
        if limit and len(items) >= limit and i < hi:
            remaining = (hi - i) if count_remaining else None
            return Page(items, keys[i - 1], remaining)
        return Page(items, None, None)

    def events_after(self, rv: int) -> list[Event]:
        """Retained events newer than rv (callers check watch_floor first)."""
        index = bisect.bisect_right(self._events, rv, key=lambda e: e.rv)
        return self._events[index:]

    @property
    def history(self) -> list[HistoryEntry]:
        """All writes so far, oldest first."""
        with self.lock:
            return list(self._history)

    # -- writing ---------------------------------------------------------------------------
    def next_rv(self) -> int:
        """Allocate the next global resourceVersion."""
        self._rv += 1
        return self._rv

    def put(self, resource: str, obj: dict[str, Any], verb: str) -> dict[str, Any]:
        """Store obj (its metadata.resourceVersion already set) as a create or replace."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        objects = self._objects.setdefault(resource, {})
        previous = objects.get(key)
        if previous is None:
            bisect.insort(self._keys.setdefault(resource, []), key)
        objects[key] = obj
        self._record(
            resource, key, obj, previous, "ADDED" if previous is None else "MODIFIED", verb
        )
        return obj

    def remove(
        self, resource: str, namespace: str, name: str, verb: str = "delete"
    ) -> dict[str, Any]:
        """Delete an object; its DELETED event carries a fresh resourceVersion."""
        key = (namespace, name)
        previous = self._objects[resource].pop(key)
        keys = self._keys[resource]
        del keys[bisect.bisect_left(keys, key)]
        final = {
            **previous,
            "metadata": {**previous["metadata"], "resourceVersion": str(self.next_rv())},
        }
        self._record(resource, key, final, previous, "DELETED", verb, keep_object=False)
        return final

    def _record(
        self,
        resource: str,
        key: Key,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
        event_type: str,
        verb: str,
        keep_object: bool = True,
    ) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        self._events.append(Event(rv, event_type, resource, key[0], obj, previous))
        if len(self._events) > self.event_window * 5 // 4 + 1:
            # Trim in batches so appends stay amortised O(1).
            drop = len(self._events) - self.event_window
            self.watch_floor = max(self.watch_floor, self._events[drop - 1].rv)
            del self._events[:drop]
        self._history.append(
            HistoryEntry(
                time=time.time(),
                verb=verb,
                kind=resource,
                namespace=key[0] or None,
                name=key[1],
                resource_version=str(rv),
                object=copy_json(obj) if keep_object else None,
            )
        )
        self.changed.notify_all()

    def compact(self) -> None:
        """Forget every retained event and continue token, like an etcd compaction."""
        with self.lock:
            self._events.clear()
            self.watch_floor = self._rv
            self.continue_era += 1
            self.changed.notify_all()

    def expire_continue_tokens(self) -> None:
        """Make every continue token issued so far answer 410 Expired."""
        with self.lock:
            self.continue_era += 1

    def set_event_window(self, size: int) -> None:
        """Change how many watch events are retained (older resourceVersions then get 410)."""
        with self.lock:
            self.event_window = size
            if len(self._events) > size:
                drop = len(self._events) - size
                self.watch_floor = max(self.watch_floor, self._events[drop - 1].rv)
                del self._events[:drop]

    def clear(self) -> None:
        """Drop all objects, events and history; resourceVersions keep increasing."""
        with self.lock:
            self._objects.clear()
            self._keys.clear()
            self._events.clear()
            self._history.clear()
            self.watch_floor = self._rv
            self.continue_era += 1
            self.epoch += 1
            self.changed.notify_all()


def check_watch_rv(store: Store, rv: int) -> ApiError | None:
    """The 410 a watch from `rv` gets when events after it were dropped."""
    if rv < store.watch_floor:
        return ApiError(410, "Expired", f"too old resource version: {rv} ({store.watch_floor})")
    return None
