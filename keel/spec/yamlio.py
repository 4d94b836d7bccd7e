"""YAML reading with errors that name the file and line; ruamel keeps YAML 1.2 semantics (no `on: true`).

Every YAML the spec layer reads (platform files, spec files, contracts, template schemas) goes through here,
so one set of limits bounds them all (Keel's own packaged templates, never user input, skip them: see
`read_packaged_yaml`). The limits hold BEFORE anything grows: the file's size is checked
before it is read, and the composer counts depth, value lengths and nodes as it pulls each event (an alias
counting as every node it stands for), so an alias bomb is refused, never expanded.
"""

from __future__ import annotations

import hashlib
import marshal
import math
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias, cast

import ruamel.yaml
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.events import AliasEvent, Event, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from keel.spec.errors import MISSING, join_path

YamlValue: TypeAlias = "dict[str, Any] | list[Any] | str | int | float | bool | None"
"""A YAML document as the spec layer reads it (see `_plain`): a plain dict, a plain list or a JSON scalar. The
contents of a collection are raw YAML (`Any`): whoever reads a field narrows it, or a schema has checked it."""

MAX_FILE_BYTES = 1024 * 1024
"""A platform, a spec file or a contract is kilobytes; a megabyte is a mistake or an attack."""
MAX_SCALAR_CHARS = 64 * 1024
"""The longest single value (a description, an inline policy)."""
MAX_DEPTH = 64
"""Nesting depth: far beyond any real spec, far below Python's recursion limit."""
MAX_NODES = 10_000
"""Nodes in the document, each alias counted as the whole node it repeats (anchors stay usable,
billion-laughs bombs do not)."""
MAX_INT_DIGITS = 30
"""Digits of an integer: no input needs more, and Python refuses to print ints above 4300 digits."""


# A long run of opening brackets: refused before ruamel's scanner, which looks ahead up to 1024 characters
# for a possible key at every one of them (seconds of work for the nesting error it would then report).
_BRACKET_RUN = re.compile(r"(?:[\[{][ \t]*){" + str(MAX_DEPTH + 1) + "}")


class YamlReadError(Exception):
    def __init__(self, file: str, message: str, *, path: str = "", got: object = MISSING,
                 expected: str | None = None) -> None:
        self.file = file
        self.message = message
        self.path = path
        self.got = got
        self.expected = expected
        super().__init__(f"{file}: {message}")


class _LimitExceeded(MarkedYAMLError):
    """A bound broken while reading events; carries the mark of the offending node."""

    def __init__(self, problem: str, mark: StreamMark | None, got: object, expected: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.got = got
        self.expected = expected


class _BoundedComposer(Composer):
    """ruamel's composer, counting as it pulls each event and before it builds the node: depth, value
    lengths, and nodes, an alias counted as the size of the node it repeats (the composer shares that
    node, it never copies it, so an alias bomb is refused before anything expands)."""

    def __init__(self, loader: object = None) -> None:
        super().__init__(loader)
        self._depth = self._nodes = 0
        self._sizes: dict[Any, int] = {}  # anchor -> nodes in the finished node it names
        self._open: list[Any] = []  # anchors of the collections being composed

    def compose_node(self, parent: object, index: object) -> Node:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                raise _LimitExceeded("an alias refers to the node that contains it", event.start_mark,
                                     f"*{event.anchor}", "aliases to finished nodes only (no recursive data)")
            self._count(self._sizes.get(event.anchor, 1), event)
            return cast(Node, super().compose_node(parent, index))
        if isinstance(event, ScalarEvent) and len(event.value) > MAX_SCALAR_CHARS:
            raise _LimitExceeded("a value is too long", event.start_mark, f"{len(event.value)} characters",
                                 f"at most {MAX_SCALAR_CHARS} characters in one value")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitExceeded("nesting is too deep", event.start_mark, f"more than {MAX_DEPTH} levels",
                                 f"at most {MAX_DEPTH} nested mappings or lists")
        start = self._nodes
        self._count(1, event)
        self._open.append(event.anchor)
        node = cast(Node, super().compose_node(parent, index))
        self._open.pop()
        self._depth -= 1
        if event.anchor is not None:
            self._sizes[event.anchor] = self._nodes - start
        return node

    def _count(self, n: int, event: Event) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            what = "aliases expand" if isinstance(event, AliasEvent) else "the document grows"
            raise _LimitExceeded(f"{what} beyond the node budget (aliases are never expanded past it)",
                                 event.start_mark, f"more than {MAX_NODES} nodes",
                                 f"at most {MAX_NODES} nodes, an alias counted as the nodes it repeats")


def read_yaml(path: Path, *, display: str | None = None) -> YamlValue:
    shown = display or str(path)
    return parse_yaml(read_text(path, display=shown), display=shown)


def read_text(path: Path, *, display: str | None = None, what: str = "YAML file") -> str:
    """A user's text file, under the size bound: a FIFO, a folder, binary or a huge file is a YamlReadError
    naming it (also for the Jinja and `.compatible-envs` files of a Proton template folder)."""
    shown = display or str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            raise YamlReadError(shown, "is not a regular file", expected=f"a {what}")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise YamlReadError(shown, "the file is too large", got=f"{size} bytes",
                                expected=f"at most {MAX_FILE_BYTES} bytes")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # the file may grow between stat and read
        if len(data) > MAX_FILE_BYTES:
            raise YamlReadError(shown, "the file is too large", got=f"more than {MAX_FILE_BYTES} bytes",
                                expected=f"at most {MAX_FILE_BYTES} bytes")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise YamlReadError(shown, "file not found") from None
    except UnicodeDecodeError as exc:
        raise YamlReadError(shown, f"is not UTF-8 text (byte {exc.start})", expected=f"a UTF-8 {what}") from None
    except OSError as exc:
        raise YamlReadError(shown, f"cannot read file: {exc.strerror or type(exc).__name__}") from None


def read_packaged_yaml(path: Path) -> YamlValue:
    """One of Keel's own template files (in the package, never user input): parsed by libyaml (ruamel.yaml.clib)
    with the same YAML 1.2 typing, ~5x faster than the pure parser, whose limits guard user files. Every process
    that loads the registry reads ~50 of them (tests/spec/test_registry.py holds both parsers to the same values).
    A file libyaml cannot read goes through `read_yaml`, for its located error."""
    try:
        doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError, ValueError):
        return read_yaml(path)
    return _plain(doc, str(path), ())


def read_yaml_mapping(path: Path, *, display: str | None = None, packaged: bool = False) -> dict[str, Any]:
    """A file that must hold a mapping (a platform file, a template's own YAML): anything else is an error.
    `packaged`: one of Keel's own files (see `read_packaged_yaml`)."""
    doc = read_packaged_yaml(path) if packaged else read_yaml(path, display=display)
    if not isinstance(doc, dict):
        raise YamlReadError(display or str(path), "is not a mapping", got=type(doc).__name__,
                            expected="a YAML mapping (key: value)")
    return doc


class _CfnConstructor(SafeConstructor):
    """The safe constructor plus CloudFormation's short-form intrinsics (`!Ref X`, `!GetAtt A.B`, `!Sub ...`),
    read as their long forms ({"Ref": "X"}, {"Fn::GetAtt": ["A", "B"]}): a rendered Proton template is YAML."""


def _cfn_value(constructor: SafeConstructor, node: Node) -> object:
    if isinstance(node, ScalarNode):
        return constructor.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return constructor.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return constructor.construct_mapping(node, deep=True)
    raise TypeError(node)


def _cfn_tag(name: str) -> Callable[[SafeConstructor, Node], dict[str, object]]:
    def construct(constructor: SafeConstructor, node: Node) -> dict[str, object]:
        value = _cfn_value(constructor, node)
        if name == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        key = name if name in ("Ref", "Condition") else f"Fn::{name}"
        return {key: value}
    return construct


for _tag in ("Ref", "Condition", "GetAtt", "Sub", "Join", "Select", "Split", "FindInMap", "Base64", "Cidr",
             "ImportValue", "GetAZs", "If", "Equals", "And", "Or", "Not", "Transform", "ToJsonString", "Length"):
    _CfnConstructor.add_constructor(f"!{_tag}", _cfn_tag(_tag))


def parse_cfn_yaml(text: str, *, display: str) -> YamlValue:
    """A CloudFormation template in YAML (short-form intrinsics allowed), under the same limits as every spec."""
    return parse_yaml(text, display=display, cloudformation=True)


class ParseStore:
    """What parsed YAML documents come to, kept by their text's digest: the same text always parses to the same
    plain data, so a spec file read again (a service's API contract read per instance, a spec file unchanged
    since the last `keel synth`) is not parsed again. Only documents that parsed cleanly are kept, so every
    error is still raised, and named, by a fresh parse. In memory for the process; on disk too when `folder`
    is given (the CLI gives `keel synth` one in its cache): marshal of plain data, written atomically."""

    #: Kept in memory (oldest dropped first): a platform of 500 instances reads a few megabytes of documents.
    MEMORY_BYTES = 64 * 1024 * 1024

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._memory: dict[str, bytes] = {}
        self._bytes = 0

    def key(self, text: str, cloudformation: bool) -> str:
        return hashlib.sha256(f"{_PARSER_TAG}\0{int(cloudformation)}\0{text}".encode()).hexdigest()

    def get(self, key: str) -> YamlValue | None:
        data = self._memory.get(key)
        if data is None and self.folder is not None:
            try:
                data = (self.folder / key[:2] / key).read_bytes()
            except OSError:
                return None
        if data is None:
            return None
        try:
            doc = marshal.loads(data)  # plain data that Keel itself wrote into its own cache
        except (EOFError, ValueError, TypeError):
            return None
        self._remember(key, data)
        return cast(YamlValue, doc)

    def put(self, key: str, doc: YamlValue) -> None:
        data = marshal.dumps(doc)
        self._remember(key, data)
        if self.folder is None:
            return
        try:
            folder = self.folder / key[:2]
            folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".yaml-", dir=folder)
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            Path(name).replace(folder / key)
        except OSError:
            pass  # a read-only cache: the next process parses again

    def prune(self, keep: int = 4000) -> None:
        """Drop all but the `keep` newest documents on disk (every edit of a spec file adds one)."""
        if self.folder is None or not self.folder.is_dir():
            return
        entries = [p for p in self.folder.glob("*/*") if not p.name.startswith(".")]
        if len(entries) <= keep:
            return
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)

    def _remember(self, key: str, data: bytes) -> None:
        if key in self._memory or len(data) > self.MEMORY_BYTES:
            return
        while self._memory and self._bytes + len(data) > self.MEMORY_BYTES:
            self._bytes -= len(self._memory.pop(next(iter(self._memory))))
        self._memory[key] = data
        self._bytes += len(data)


#: Changes whenever the parser could read a text differently: this module's code, ruamel's version.
_PARSER_TAG = f"{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]}/{ruamel.yaml.__version__}"
_store = ParseStore()


def use_parse_store(folder: Path | None) -> ParseStore:
    """Keep parsed documents on disk in `folder` too (called at the top: the CLI's `keel synth`)."""
    global _store
    _store = ParseStore(folder)
    return _store


def parse_yaml(text: str, *, display: str, cloudformation: bool = False) -> YamlValue:
    """`text` as plain data (see `_plain`), under the limits; from the parse store when this text parsed before
    (the copy returned is the caller's own)."""
    key = _store.key(text, cloudformation)
    doc = _store.get(key)
    if doc is None:
        doc = _parse(text, display=display, cloudformation=cloudformation)
        _store.put(key, doc)
    return doc


def _parse(text: str, *, display: str, cloudformation: bool) -> YamlValue:
    if len(text) > MAX_FILE_BYTES:
        raise YamlReadError(display, "the file is too large", got=f"{len(text)} characters",
                            expected=f"at most {MAX_FILE_BYTES} bytes")
    run = _BRACKET_RUN.search(text)
    if run:
        line = text.count("\n", 0, run.start())
        column = run.start() - (text.rfind("\n", 0, run.start()) + 1)
        raise YamlReadError(display, f"line {line + 1}, column {column + 1}: nesting is too deep",
                            got=f"more than {MAX_DEPTH} levels",
                            expected=f"at most {MAX_DEPTH} nested mappings or lists")
    yaml = YAML(typ="safe", pure=True)  # pure: YAML 1.2 parsing too (libyaml rejects `[https://x]`)
    yaml.Composer = _BoundedComposer
    if cloudformation:  # CloudFormation reads YAML 1.1 (`Yes` is true there), as Proton's templates expect
        yaml.Constructor = _CfnConstructor
        yaml.version = (1, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a re-used anchor is legal YAML; ruamel warns on stderr
            doc = yaml.load(text)
    except _LimitExceeded as exc:
        raise YamlReadError(display, f"{_where(exc.problem_mark)}{exc.problem}", got=exc.got,
                            expected=exc.expected) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed"
        raise YamlReadError(display, f"{_where(mark)}invalid YAML: {_first_line(problem)}") from None
    except YAMLError as exc:
        raise YamlReadError(display, f"invalid YAML: {_first_line(str(exc))}") from None
    except ValueError as exc:  # int() refuses thousands of digits before _plain sees the number
        digits = "integer string conversion" in str(exc)
        raise YamlReadError(display, "a number is too large" if digits else "invalid YAML: a value cannot be read",
                            expected=f"at most {MAX_INT_DIGITS} digits" if digits else None) from None
    return _plain(doc, display, ())


def _where(mark: StreamMark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "malformed"


def _plain(node: object, display: str, at: tuple[str | int, ...]) -> YamlValue:
    """Plain dicts/lists; dates and other YAML-only scalars become strings (schemas speak JSON, so NaN,
    infinities and huge integers, which JSON and CloudFormation cannot carry, are errors)."""
    if isinstance(node, dict):
        out: dict[Any, YamlValue] = {}  # keys are strings, but for the int or bool keys YAML allows (`1: x`)
        for k, v in node.items():
            key = k if isinstance(k, (str, int, float, bool)) and not isinstance(k, float) else str(k)
            out[key] = _plain(v, display, (*at, str(key)))
        return out
    if isinstance(node, list):
        return [_plain(v, display, (*at, i)) for i, v in enumerate(node)]
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return node
    if isinstance(node, float) and not math.isfinite(node):
        raise YamlReadError(display, "is not a finite number", path=join_path(*at),
                            got=str(node).replace("inf", "Infinity").replace("nan", "NaN"),
                            expected="a finite number (JSON has no NaN or Infinity)")
    if isinstance(node, int) and len(str(abs(node))) > MAX_INT_DIGITS:
        raise YamlReadError(display, "is too large a number", path=join_path(*at),
                            got=f"an integer of {len(str(abs(node)))} digits",
                            expected=f"at most {MAX_INT_DIGITS} digits")
    if isinstance(node, (int, float)):
        return node
    return str(node)
