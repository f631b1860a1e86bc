"""Parse .dro text with lark's LALR tables, without importing lark.

lark takes longer to import (about 25 ms) than `dro validate FILE` takes to check a
file. Its tables are plain data: the state machine, each rule's length and name, and
how lark's tree builder shapes each rule's children before the rule's builder method
gets them (placeholders, inlined `_rules`, `?rules` of one child). Once lark has
built them (`build`), they are cached as marshal data in the temporary directory,
keyed by the sources they come from; the next process parses with them alone.

The loop only parses text that parses: at the first token the table has no action
for, or text the scanner cannot read, it raises Unparsed, and dsl.parser parses
again with lark, whose exception makes the diagnostic (identical, whichever ran).
"""

from __future__ import annotations

import functools
import importlib.util
import marshal
import operator
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsl.scan import Scanner

FORMAT = 1  # of the cached data: bump when `build` changes what it writes
HERE = Path(__file__).parent
SOURCES = ("grammar.lark", "lexer.py", "scan.py", "lalr_tables.py")

Callback = Callable[[list[Any]], Any]


class Unparsed(Exception):
    """The text does not parse: parse it with lark to learn why."""


class _Last:
    __slots__ = ("last_token",)

    def __init__(self) -> None:
        self.last_token: Any = None


class _Inlined:
    """What an inlined helper rule (`_x`, `__x_star_0`) gives its parent: lark's Tree has more, but the
    parent only reads the children."""

    __slots__ = ("children",)

    def __init__(self, children: list[Any]) -> None:
        self.children = children


class Tables:
    """The parser of the tables, with `builder`'s methods as the rules' callbacks."""

    def __init__(self, data: dict[str, Any], builder: Any) -> None:
        self.scanner = Scanner(*data["scanner"])
        self.states: dict[int, dict[str, int]] = data["states"]  # >= 0: shift (go) to; < 0: reduce rule ~n
        self.start_states: dict[str, int] = data["start_states"]
        self.end_states: dict[str, int] = data["end_states"]
        self.rules = [(size, origin, *_callback(size, spec, builder)) for size, origin, spec in data["rules"]]

    def parse(self, text: str, start: str) -> Any:
        states, rules = self.states, self.rules
        stack, values = [self.start_states[start]], []
        last = _Last()
        for token in self.scanner.scan(text, (0, 1, 0), states, stack, last):
            kind = token.type
            while True:
                act = states[stack[-1]].get(kind)
                if act is None:
                    raise Unparsed
                if act >= 0:
                    stack.append(act)
                    values.append(token)
                    break
                # Inlined, not a call of _reduce: most of the parse is here.
                size, origin, callback, kept = rules[~act]
                if callback is _SAME:  # the one child is the value
                    stack[-1] = states[stack[-2]][origin]
                    continue
                if callback is _APPEND:  # a repetition grows by one: append to its list
                    item = values[kept - size]
                    del values[1 - size:]
                    values[-1].children.append(item)  # type: ignore[attr-defined]  # a Tree: the list so far
                    del stack[1 - size:]
                    stack[-1] = states[stack[-2]][origin]
                    continue
                if size:
                    children = values[-size:]
                    del stack[-size:]
                    del values[-size:]
                else:
                    children = []
                values.append(callback(children))
                stack.append(states[stack[-1]][origin])
        if not self.scanner.trailing.match(text, last.last_token.end_pos if last.last_token else 0):
            raise Unparsed
        end_state = self.end_states[start]
        while True:
            act = states[stack[-1]].get("$END")
            if act is None or act >= 0:
                raise Unparsed
            self._reduce(rules[~act], stack, values)
            if stack[-1] == end_state:
                return values[-1]

    def _reduce(self, rule: tuple[int, str, Any, int], stack: list[int], values: list[Any]) -> None:
        size, origin, callback, kept = rule
        children = values[-size:] if size else []
        del stack[len(stack) - size:]
        del values[len(values) - size:]
        if callback is _SAME:
            values.append(children[0])
        elif callback is _APPEND:
            children[0].children.append(children[kept])
            values.append(children[0])
        else:
            values.append(callback(children))
        stack.append(self.states[stack[-1]][origin])


def _callback(size: int, spec: list[Any], builder: Any) -> tuple[Any, int]:
    """A rule's callback, as lark's tree builder composes it (parse_tree_builder.py), innermost last;
    _SAME or (_APPEND, the child appended) for the two shapes that the loop does without a call."""
    kind, name = spec[-1]
    inlined = kind != "method" and name.startswith("_")
    if size == 1 and spec == [("expand1",), (kind, name)] and kind != "method":
        return _SAME, 0  # `?rule` of one child: lark returns the child
    if inlined and len(spec) == 2 and spec[0][0] == "filter" and not spec[0][2]:
        included = spec[0][1]
        if len(included) == 2 and included[0] == (0, True, 0) and not included[1][1] and not included[1][2]:
            return _APPEND, included[1][0]  # `_x: _x "," item`: lark extends the list of the first child
    f: Callback
    if kind == "method":
        f = getattr(builder, name)
    elif inlined:
        f = _Inlined
    else:
        f = _unsupported
    for step in reversed(spec[:-1]):
        f = _expand_single(f) if step[0] == "expand1" else _filter(step[1], step[2], f)
    return f, 0


_SAME = object()
_APPEND = object()


def _unsupported(children: list[Any]) -> Any:
    raise Unparsed  # a bare lark Tree would reach the builder: let lark build it


def _expand_single(inner: Callback) -> Callback:
    def call(children: list[Any]) -> Any:
        return children[0] if len(children) == 1 else inner(children)
    return call


def _filter(to_include: list[tuple[int, bool, int]], append_none: int, inner: Callback) -> Callback:
    if not append_none and not any(to_expand or add_none for _i, to_expand, add_none in to_include):
        take = operator.itemgetter(*(i for i, _expand, _none in to_include))  # the common case: a few children
        if len(to_include) == 1:
            return lambda children: inner([take(children)])
        return lambda children: inner(list(take(children)))

    def call(children: list[Any]) -> Any:
        filtered: list[Any] = []
        for i, to_expand, add_none in to_include:
            if add_none:
                filtered += [None] * add_none
            if to_expand:
                if filtered:
                    filtered += children[i].children
                else:  # as lark does, for left recursion
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if append_none:
            filtered += [None] * append_none
        return inner(filtered)
    return call


def build(parser: Any, builder: Any) -> dict[str, Any] | None:
    """The tables of lark's parser `parser` (built with `builder` as its transformer, and dro's
    FastLexer) as plain data; None if lark built something this module does not reproduce."""
    frontend = parser.parser
    lalr = frontend.parser.parser
    table, callbacks = lalr.parse_table, lalr.callbacks
    if any(isinstance(key, str) for key in callbacks):  # callbacks on tokens
        return None
    rules: list[Any] = []
    index: dict[Any, int] = {}
    states: dict[int, dict[str, int]] = {}
    for state, actions in table.states.items():
        row = states[state] = {}
        for symbol, (action, arg) in actions.items():
            if action.name == "Shift":
                row[str(symbol)] = arg
                continue
            if arg not in index:
                spec = _spec(callbacks[arg], builder)
                if spec is None:
                    return None
                index[arg] = len(rules)
                rules.append((len(arg.expansion), str(arg.origin.name), spec))
            row[str(symbol)] = ~index[arg]
    # Plain str and int throughout (a fresh grammar names things with lark's str subclasses): marshal.
    token, trailing, flags, names, keywords = frontend.lexer.scanner.parts
    scanner = (str(token), str(trailing), int(flags), [str(n) for n in names],
               {str(k): str(v) for k, v in keywords.items()})
    return {"scanner": scanner, "states": states, "rules": rules,
            "start_states": {str(k): int(v) for k, v in table.start_states.items()},
            "end_states": {str(k): int(v) for k, v in table.end_states.items()}}


def _spec(f: Any, builder: Any) -> list[Any] | None:
    steps: list[Any] = []
    while True:
        kind = type(f).__name__
        if kind == "ExpandSingleChild":
            steps.append(("expand1",))
        elif kind == "ChildFilterLALR":
            steps.append(("filter", [(int(i), bool(expand), int(none)) for i, expand, none in f.to_include],
                          int(f.append_none or 0)))
        elif kind == "ChildFilterLALR_NoPlaceholders":
            steps.append(("filter", [(int(i), bool(expand), 0) for i, expand in f.to_include], 0))
        elif kind == "partial" and len(f.args) == 1 and not f.keywords:
            return [*steps, ("default", str(f.args[0]))]
        elif getattr(f, "__self__", None) is builder and getattr(builder, f.__name__, None) == f:
            return [*steps, ("method", str(f.__name__))]
        else:
            return None
        f = f.node_builder


def _key() -> bytes:
    """What the cached tables were built from: these sources, and the installed lark."""
    spec = importlib.util.find_spec("lark")
    stat = os.stat(spec.origin) if spec and spec.origin else None
    lark = f"{spec.origin if spec else ''}:{stat.st_mtime_ns if stat else 0}:{stat.st_size if stat else 0}"
    return b"\0".join([str(FORMAT).encode(), lark.encode(), *((HERE / name).read_bytes() for name in SOURCES)])


def _cache_file(key: bytes) -> Path:
    """Named by its key too: worktrees or installs of other versions keep caches of their own."""
    folder = next((os.environ[v] for v in ("TMPDIR", "TEMP", "TMP") if os.environ.get(v)), "/tmp")
    return Path(folder) / f"dro-lalr-tables-{_uid()}-{zlib.crc32(key):08x}.marshal"


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0


@functools.lru_cache(maxsize=1)
def cached_data() -> dict[str, Any] | None:
    """The tables the cache holds for these sources, or None. Only a file of this user is read
    (lark keeps its own cache, a pickle, in the same folder)."""
    try:
        key = _key()
        path = _cache_file(key)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # a symbolic link is not our cache
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            # this user's regular file, that nobody else can write: marshal trusts what it reads
            if not stat.S_ISREG(info.st_mode) or info.st_uid != _uid() or info.st_mode & 0o022:
                return None
            cached_key, data = marshal.loads(file.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if cached_key == key and isinstance(data, dict) else None


def save(data: dict[str, Any]) -> None:
    """Cache `data` for the next process; a cache that cannot be written is no error."""
    import tempfile  # only when writing: a validate that finds the cache does not load it

    key = _key()
    target = _cache_file(key)
    part = None
    try:
        # a new file of its own (O_EXCL, mode 0600): a name guessed in a shared folder is never followed
        fd, part = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.")
        with os.fdopen(fd, "wb") as file:
            file.write(marshal.dumps((key, data)))
        os.replace(part, target)
    except (OSError, ValueError):  # ValueError: something marshal cannot write (a bug: parse without the cache)
        if part is not None:
            Path(part).unlink(missing_ok=True)
    cached_data.cache_clear()
