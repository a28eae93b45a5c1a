"""Which namespaces a policy covers: all, a list, name patterns or a label selector, minus
exclusions. Pure functions, shared by scans, syncs, the watcher and the policy preview."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.utils.translation import gettext as _

_KEY = r"(?:[a-z0-9A-Z](?:[-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z](?:[-a-z0-9A-Z_.]*[a-z0-9A-Z])?"
_VALUE = r"(?:[a-z0-9A-Z](?:[-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(\s*([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


class SelectorError(ValueError):
    """A label selector a person typed that Kubernetes would refuse too."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "in" | "notin" | "exists" | "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op == "in":
            return labels.get(self.key) in self.values
        # notin (and !=) also match objects without the key, as in Kubernetes.
        return labels.get(self.key) not in self.values


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse Kubernetes label-selector syntax (``a=b,c in (d,e),!f``)."""
    text = text.strip()
    if not text:
        return []
    requirements = []
    for part in _split_top_level(text):
        if m := _SET_RE.match(part):
            values = [v.strip() for v in m.group(3).split(",") if v.strip()]
            if not values or not all(_VALUE_RE.match(v) for v in values):
                raise SelectorError(
                    _('"%(part)s": list at least one valid value in the parentheses.')
                    % {"part": part.strip()}
                )
            requirements.append(Requirement(m.group(1), m.group(2), frozenset(values)))
        elif m := _EQ_RE.match(part):
            op = "notin" if m.group(2) == "!=" else "in"
            requirements.append(Requirement(m.group(1), op, frozenset([m.group(3)])))
        elif m := _EXISTS_RE.match(part):
            requirements.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
        else:
            raise SelectorError(
                _(
                    '"%(part)s" is not a label selector requirement; use forms '
                    "like team=a, env!=dev, tier in (web,api), or !legacy."
                )
                % {"part": part.strip()}
            )
    return requirements


def selector_matches(requirements: list[Requirement], labels: dict[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True)
class NamespaceSelection:
    """A policy's namespace choice, detached from the ORM so threads can share it."""

    selection: str
    namespaces: frozenset[str]
    patterns: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    exclusions: tuple[str, ...]

    @classmethod
    def of(cls, policy) -> NamespaceSelection:
        return cls(
            selection=policy.selection,
            namespaces=frozenset(policy.namespaces or []),
            patterns=tuple(policy.patterns or []),
            requirements=tuple(parse_label_selector(policy.label_selector or "")),
            exclusions=tuple(policy.exclusions or []),
        )

    def covers(self, name: str, labels: dict[str, str] | None = None) -> bool:
        if any(fnmatchcase(name, pattern) for pattern in self.exclusions):
            return False
        if self.selection == "all":
            return True
        if self.selection == "list":
            return name in self.namespaces
        if self.selection == "patterns":
            return any(fnmatchcase(name, pattern) for pattern in self.patterns)
        if self.selection == "selector":
            return selector_matches(list(self.requirements), labels or {})
        return False
