"""Bounded reading of the files people hand kurator (plan files, kubeconfigs, object-store configs, bundles'
indexes, fleet records): every one has a size limit, must be UTF-8 text, and YAML's aliases may not expand
a document past a small bound. Each refusal is one sentence naming the file.

A YAML "billion laughs" (a few hundred bytes of nested anchors) loads into shared references cheaply, then
explodes in whatever walks it (validation, printing, a deep copy); the node graph is measured before any
Python object is built, so such a file is refused at once. Nesting is bounded the same way: PyYAML and
``json`` recurse, and a file of ``[[[[`` would end in a RecursionError far from any file name.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from kurator.core.errors import InvalidInput, shown

MiB = 1024 * 1024
LIMIT = 4 * MiB
"""Default limit of one file: far above any real plan file, object-store config or record (a plan of 257
hosts is ~60 KiB), and above what the API server takes in one request (3 MiB)."""
KUBECONFIG_LIMIT = 16 * MiB
"""Kubeconfigs of many clusters with embedded certificates grow large (kubectl has no limit at all)."""
ALIAS_NODES = 10_000
"""How many nodes YAML aliases may add to a document when expanded: generous for anchors that share a
block of settings, tiny next to the millions a nested-anchor bomb asks for."""
DEPTH = 100
"""How deeply a document may nest; Kubernetes objects go about 20 levels deep."""


URL_LIMIT = 2048


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a server's address (``--url``, a kubeconfig's ``server``), or None: checked
    before any request, so the HTTP library never meets a host name it cannot encode or a port that is no
    number (it raised UnicodeError and InvalidURL, which named neither the value nor where it came from)."""
    from urllib.parse import urlsplit

    if len(url) > URL_LIMIT:
        return f"it is longer than {URL_LIMIT} characters"
    if not re.fullmatch(r"https?://[^\x00-\x20\x7f]+", url):
        return f"{shown(url)} is not an http:// or https:// address"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # 'Invalid IPv6 URL', 'Port out of range 0-65535', 'Port could not be cast…'
        return f"{shown(url)} is not a URL: {exc}"
    host = parts.hostname
    if not host:
        return f"{shown(url)} is not an http:// or https:// address (it has no host)"
    if port == 0:
        return f"{shown(url)} has port 0: the port must be a number from 1 to 65535"
    try:
        host.encode("idna")
    except UnicodeError:
        return f"host name {shown(host)} is not valid (empty or over-long parts between its dots)"
    return None


class NotYaml(InvalidInput):
    """The text is not YAML at all (as opposed to YAML refused for its aliases, nesting or values)."""


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes" if n < 1024 else f"{n / 1024:.0f} KiB"


def _too_large(label: str, limit: int, size: int | None = None) -> InvalidInput:
    if size is None:  # a pipe or a device: how much more it holds is not known
        message = f"{label} holds more than {_size(limit)}, the most kurator reads from it"
    else:
        message = f"{label} is {_size(size)}: kurator reads at most {_size(limit)} from it"
    return InvalidInput(message, "is it the right file?")


def decode(data: bytes, label: str, limit: int = LIMIT) -> str:
    """``data`` (read from ``label``) as text: refused when over ``limit``, binary or not UTF-8."""
    if len(data) > limit:
        raise _too_large(label, limit)
    if b"\0" in data:
        raise InvalidInput(f"{label} is binary, not a text file", "is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{label} is not UTF-8 text (byte {exc.start} cannot be decoded)", "save it as UTF-8"
        ) from None


def read_text(path: str | os.PathLike[str], what: str, limit: int = LIMIT) -> str:
    """The text of the file ``path``, which messages call ``"<what> <path>"``; never more than ``limit``
    bytes are read (a larger regular file is refused from its size alone, a pipe or device after
    ``limit`` bytes)."""
    label = f"{what} {path}"
    try:
        with Path(path).open("rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise InvalidInput(f"{label} is a folder, not a file")
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _too_large(label, limit, info.st_size)
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{label} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{label} is a folder, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"{label} cannot be read: {exc.strerror or exc}") from None
    return decode(data, label, limit)


def read_stream(stream: IO[bytes], label: str, limit: int = LIMIT) -> str:
    """As :func:`read_text`, for an open stream such as standard input."""
    return decode(stream.read(limit + 1), label, limit)


# ---- YAML ------------------------------------------------------------------------------------------------


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _check_graph(root: yaml.Node, label: str, aliases: int, depth: int) -> None:
    """Refuse a composed document whose aliases expand it by more than ``aliases`` nodes, that refers to
    itself, or that nests deeper than ``depth``. Linear in the nodes written (each is measured once)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, level, closing = stack.pop()
        key = id(node)
        if closing:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_:
            raise InvalidInput(f"{label} holds an alias that refers to itself", "YAML aliases cannot recurse")
        if level > depth:
            raise InvalidInput(f"{label} nests deeper than {depth} levels", "is it the right file?")
        open_.add(key)
        stack.append((node, level, True))
        stack.extend((c, level + 1, False) for c in _children(node))
    if sizes[id(root)] - len(sizes) > aliases:
        raise InvalidInput(
            f"{label} uses YAML aliases that expand it by more than {aliases} nodes",
            "write the repeated parts out, or use fewer anchors",
        )


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML found wrong and where, without its quote of the offending line (which may hold a key
    or a password)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    problem = re.sub(r"'[^']{3,}'|\"[^\"]{3,}\"", "'…'", str(problem))
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def load_yaml_all(
    text: str,
    label: str,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
    aliases: int = ALIAS_NODES,
    depth: int = DEPTH,
) -> list[Any]:
    """Every document of ``text`` (read from ``label``), parsed safely and within the bounds above."""
    parser = loader(text)
    out: list[Any] = []
    try:
        while parser.check_node():
            node = parser.get_node()
            if node is None:
                continue
            _check_graph(node, label, aliases, depth)
            out.append(parser.construct_document(node))
    except yaml.YAMLError as exc:
        raise NotYaml(f"{label} is not valid YAML: {yaml_problem(exc)}") from None
    except RecursionError:
        raise InvalidInput(f"{label} nests deeper than {depth} levels", "is it the right file?") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InvalidInput(f"{label} holds a value kurator cannot read: {str(exc)[:80]}") from None
    finally:
        parser.dispose()
    return out


def load_yaml(text: str, label: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """The one document of ``text`` (``None`` for an empty file); several documents are refused."""
    docs = load_yaml_all(text, label, loader)
    if len(docs) > 1:
        raise InvalidInput(f"{label} holds {len(docs)} YAML documents where one is expected")
    return docs[0] if docs else None


def load_json(text: str, label: str, depth: int = DEPTH) -> Any:
    """``text`` (read from ``label``) parsed as JSON, nesting bounded as for YAML."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{label} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InvalidInput(f"{label} nests deeper than {depth} levels") from None
    _check_depth(data, label, depth)
    return data


def _check_depth(data: Any, label: str, depth: int) -> None:
    stack = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if level > depth:
            raise InvalidInput(f"{label} nests deeper than {depth} levels")
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)
