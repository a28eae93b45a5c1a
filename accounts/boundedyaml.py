"""Reading a kubeconfig document safely: size, encoding, JSON or YAML, and no alias bombs."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.utils.translation import gettext as _

from accounts.errors import KubeconfigError

MAX_KUBECONFIG_BYTES = 256 * 1024
# A kubeconfig of a few hundred clusters has a few thousand nodes; these bounds leave ample
# room while stopping alias bombs ("billion laughs") before PyYAML constructs anything.
MAX_EXPANDED_NODES = 100_000
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
MAX_NESTING_DEPTH = 64


def decode_document(data: str | bytes) -> str:
    if isinstance(data, str):
        # surrogateescape-decoded input would carry lone surrogates that are not UTF-8.
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise KubeconfigError(_("The kubeconfig is not UTF-8 text.")) from None
    else:
        raw = bytes(data)
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise KubeconfigError(
            _("The kubeconfig is larger than %(limit)d KiB.")
            % {"limit": MAX_KUBECONFIG_BYTES // 1024}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KubeconfigError(_("The kubeconfig is not UTF-8 text.")) from None
    if not text.strip():
        raise KubeconfigError(_("The kubeconfig is empty."))
    return text


def load_document(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise KubeconfigError(
                _(
                    "The kubeconfig is not valid JSON "
                    "(line %(line)d, column %(column)d: %(problem)s)."
                )
                % {"line": error.lineno, "column": error.colno, "problem": error.msg}
            ) from None
        except RecursionError:
            raise KubeconfigError(_("The kubeconfig is nested too deeply.")) from None
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooLarge as error:
        raise KubeconfigError(error.message) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        if mark is not None:
            raise KubeconfigError(
                _("The kubeconfig is neither JSON nor valid YAML (line %(line)d: %(problem)s).")
                % {"line": mark.line + 1, "problem": problem}
            ) from None
        raise KubeconfigError(
            _("The kubeconfig is neither JSON nor valid YAML (%(problem)s).") % {"problem": problem}
        ) from None
    except RecursionError:
        raise KubeconfigError(_("The kubeconfig is nested too deeply.")) from None


class _TooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting and documents whose aliases expand too far.

    Composing a YAML document keeps each anchored node once however often it is aliased, so
    the expanded size can be measured on the node graph before anything is constructed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise _TooLarge(_("The kubeconfig is nested too deeply."))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        _check_expanded_size(node)
        return node


def _check_expanded_size(root: yaml.Node) -> None:
    """Measure what the node graph would expand to, without recursion or expansion."""
    too_large = _("The kubeconfig expands to more data than any kubeconfig needs (YAML aliases).")
    sizes: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _child_nodes(node)
        if finished:
            in_progress.discard(key)
            nodes, chars = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            for child in children:
                child_nodes, child_chars = sizes[id(child)]
                nodes += child_nodes
                chars += child_chars
            if nodes > MAX_EXPANDED_NODES or chars > MAX_EXPANDED_CHARS:
                raise _TooLarge(too_large)
            sizes[key] = (nodes, chars)
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise _TooLarge(_("The kubeconfig contains a YAML alias that refers to itself."))
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _child_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
