"""Moving around the folder tree: ``parent``, ``root``, ``children``, ``walk()``, ``glob()``, ``/``,
``parts``, ``absolute`` and ``tree()``.

Mixed into :class:`~exchangelib.folders.base.BaseFolder`. Everything here reads the account's cached
folder hierarchy (:class:`~exchangelib.folders.collection.FolderTree`, ``account.folders``), which is
fetched once, on first use.

Folder names are matched as whole names: a name may contain ``/``, ``*``, ``?`` or ``[`` and still be
found. In ``folder / 'name'`` the string is always one exact name (``'..'`` means the parent). In
``glob()`` patterns, ``/`` separates levels and ``*``, ``?``, ``[...]`` are wildcards; put a
backslash before any character to take it literally (``glob_escape(name)`` does that for you).
In ``absolute``, a ``/`` or ``\\`` inside a name is written with a backslash before it.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple

from ..elements import html_caption, html_table
from ..errors import EWSError, ErrorFolderNotFound
from ..lazy import LazyModule
from .collections import FolderCollection

# Standard modules used after import only: loaded on first use (see exchangelib.lazy)
if TYPE_CHECKING:
    import html
else:
    html = LazyModule("html")

_GLOB_SPECIALS = frozenset("\\/*?[")
_PARENT = "parent"
#: Most subfolders drawn in a folder's HTML tree (Jupyter); the rest are counted.
HTML_TREE_LIMIT = 200
_RECURSIVE = "recursive"
_MATCH = "match"


def glob_escape(name: str) -> str:
    """``name`` as a glob pattern segment that matches exactly that name (``'a/b*'`` -> ``'a\\/b\\*'``)."""
    if not isinstance(name, str):
        raise TypeError(f"glob_escape() takes a folder name (str), got {type(name).__name__}")
    if name == "..":  # otherwise it means 'the parent'
        return "\\.."
    return "".join("\\" + c if c in _GLOB_SPECIALS else c for c in name)


def path_escape(name: str) -> str:
    """A folder name as written in :attr:`absolute` paths: backslash before ``\\`` and ``/``."""
    return name.replace("\\", "\\\\").replace("/", "\\/")


class _Segment:
    """One level of a glob pattern: '..', '**', or a name pattern compiled to a regular expression."""

    __slots__ = ("kind", "regex")

    def __init__(self, kind: str, regex: Optional["re.Pattern[str]"] = None):
        self.kind = kind
        self.regex = regex

    def matches(self, name: Optional[str]) -> bool:
        return self.regex is not None and self.regex.fullmatch(name or "") is not None


def _parse_class(pattern: str, i: int) -> Tuple[Optional[str], int]:
    """Parse a ``[...]`` set starting at ``pattern[i] == '['``. Returns (regex, next index) or (None, i)."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in "!^"
    if negate:
        j += 1
    chars: List[str] = []
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == "]" and not first:
            break
        first = False
        if c == "\\" and j + 1 < len(pattern):
            c = pattern[j + 1]
            j += 1
        if j + 2 < len(pattern) and pattern[j + 1] == "-" and pattern[j + 2] != "]":
            hi = pattern[j + 2]
            if hi == "\\" and j + 3 < len(pattern):
                hi = pattern[j + 3]
                j += 1
            if hi < c:
                raise ValueError(f"Bad range {c}-{hi} in glob pattern {pattern!r}")
            chars.append(f"{re.escape(c)}-{re.escape(hi)}")
            j += 3
            continue
        chars.append(re.escape(c))
        j += 1
    if j >= len(pattern):  # no closing bracket: '[' is an ordinary character
        return None, i
    return f"[{'^' if negate else ''}{''.join(chars)}]", j + 1


def _parse_glob(pattern: str) -> Tuple[bool, List[_Segment]]:
    """Split a pattern into levels on unescaped '/'. Returns (anchored at the root, segments)."""
    anchored = pattern.startswith("/")
    segments: List[_Segment] = []
    regex: List[str] = []
    plain: List[str] = []  # the segment's text when it has no escapes or wildcards other than '*'
    escaped = False
    i = 0

    def finish() -> None:
        text = "".join(plain)
        if not regex:
            return  # empty segment ('//', leading or trailing '/')
        if not escaped and text == "..":
            segments.append(_Segment(_PARENT))
        elif not escaped and text == "**":
            segments.append(_Segment(_RECURSIVE))
        else:
            segments.append(_Segment(_MATCH, re.compile("".join(regex), re.DOTALL)))

    while i < len(pattern):
        c = pattern[i]
        if c == "/":
            finish()
            regex, plain, escaped = [], [], False
            i += 1
            continue
        if c == "\\":
            literal = pattern[i + 1] if i + 1 < len(pattern) else "\\"
            regex.append(re.escape(literal))
            plain.append(literal)
            escaped = True
            i += 2
            continue
        if c == "*":
            regex.append(".*")
            plain.append("*")
        elif c == "?":
            regex.append(".")
            plain.append("?")
            escaped = True
        elif c == "[":
            cls, nxt = _parse_class(pattern, i)
            if cls is not None:
                regex.append(cls)
                plain.append(pattern[i:nxt])
                escaped = True
                i = nxt
                continue
            regex.append(re.escape(c))
            plain.append(c)
        else:
            regex.append(re.escape(c))
            plain.append(c)
        i += 1
    finish()
    return anchored, segments


class FolderNavigation:
    """Navigation of the folder tree, mixed into every folder class.

    Needs ``self.account`` (folders you get from an Account have it; a new ``Folder(parent=...)``
    takes its parent's).
    """

    account: Any
    id: Optional[str]
    name: Optional[str]

    # --- where the folder is -----------------------------------------------------------------------
    def _folder_tree(self) -> Any:
        """The account's cached tree this folder belongs to."""
        return self._require_account().folders.tree_for(self)  # type: ignore[attr-defined]

    @property
    def parent(self) -> Any:
        """The parent folder (None for a root). Saved folders read it from the cached tree; a new folder
        has the one given as ``Folder(parent=...)``."""
        if self.id is not None and self.account is not None:
            tree = self._folder_tree()
            if tree.is_root(self):
                return None
            found = tree.parent_of(self)
            if found is not None:
                return found
        return self.__dict__.get("_parent")

    @parent.setter
    def parent(self, value: Any) -> None:
        if value is not None and not isinstance(value, FolderNavigation):
            raise TypeError(f"{type(self).__name__}.parent must be a folder, got {type(value).__name__}")
        self.__dict__["_parent"] = value
        if value is not None and self.account is None and value.account is not None:
            self.account = value.account

    @property
    def root(self) -> Any:
        """The root of the tree this folder is in; for mailbox folders the same as ``account.root``."""
        explicit = self.__dict__.get("_root")
        if explicit is not None:
            return explicit
        if self.account is not None:
            return self._folder_tree().root
        parent = self.__dict__.get("_parent")
        return parent.root if parent is not None else None

    @root.setter
    def root(self, value: Any) -> None:
        if value is not None and not isinstance(value, FolderNavigation):
            raise TypeError(f"{type(self).__name__}.root must be a folder, got {type(value).__name__}")
        self.__dict__["_root"] = value

    @property
    def children(self) -> FolderCollection:
        """The direct subfolders, by name (case-insensitively), as a searchable :class:`FolderCollection`."""
        kids = self._folder_tree().children_of(self) if self.id is not None else []
        return FolderCollection(account=self.account, folders=kids)

    def walk(self) -> FolderCollection:
        """Every folder below this one, at any depth (depth first, siblings by name), as a FolderCollection."""
        if self.id is None:
            return FolderCollection(account=self.account, folders=())
        return FolderCollection(account=self.account, folders=self._folder_tree().walk(self))

    @property
    def parts(self) -> List[Any]:
        """The folders from the root down to this one: ``[root, ..., self.parent, self]``."""
        out = [self]
        seen = {id(self)}
        p = self.parent
        while p is not None and id(p) not in seen:
            out.append(p)
            seen.add(id(p))
            p = p.parent
        out.reverse()
        return out

    @property
    def absolute(self) -> str:
        """The path from the root as a string: ``'/root/Top of Information Store/Inbox'``.

        A ``/`` or ``\\`` inside a folder name is written with a backslash before it.
        """
        return "".join("/" + path_escape(f.name or "") for f in self.parts)

    # --- finding folders by name -------------------------------------------------------------------
    def __truediv__(self, name: str) -> Any:
        """``folder / 'child'``: the subfolder with exactly this name; ``'..'`` is the parent.

        Raises ErrorFolderNotFound when there is none.
        """
        if not isinstance(name, str):
            raise TypeError(f"folder / name needs a folder name (str), got {type(name).__name__}")
        if name == "..":
            parent = self.parent
            if parent is None:
                raise ErrorFolderNotFound(f"{self.name!r} is a root folder; it has no parent")
            return parent
        for child in self.children:
            if child.name == name:
                return child
        raise ErrorFolderNotFound(f"No subfolder named {name!r} in {self.absolute!r}")

    def glob(self, pattern: str) -> FolderCollection:
        """The folders matching a Unix-style glob pattern, relative to this folder.

        ``'foo*'`` children whose name matches; ``'*/foo'`` subfolders named 'foo' of any child;
        ``'**/foo'`` folders named 'foo' at any depth below (``**`` is zero or more levels);
        ``'../sibling'`` goes up. A pattern starting with ``/`` starts above the root, so the first
        level matches the root's name, as in :attr:`absolute`. ``*``, ``?`` and ``[...]`` work as in a
        shell and match any character of a name (a ``/`` too); a backslash makes the next character
        literal (see :func:`glob_escape`). Names are compared case-sensitively.
        """
        if not isinstance(pattern, str):
            raise TypeError(f"glob() takes a pattern (str), got {type(pattern).__name__}")
        if not pattern:
            raise ValueError("glob() needs a non-empty pattern")
        anchored, segments = _parse_glob(pattern)
        current: List[Any] = [None] if anchored else [self]  # None: the level above the root
        for seg in segments:
            found: List[Any] = []
            for f in current:
                if seg.kind == _PARENT:
                    if f is not None and f.parent is not None:
                        found.append(f.parent)
                elif seg.kind == _RECURSIVE:
                    if f is None:
                        root = self.root
                        found.append(root)
                        found.extend(root.walk())
                    else:
                        found.append(f)
                        found.extend(f.walk())
                else:
                    kids = [self.root] if f is None else f.children
                    found.extend(k for k in kids if seg.matches(k.name))
            current = _unique(found)
        return FolderCollection(account=self.account, folders=[f for f in current if f is not None])

    # --- a picture -----------------------------------------------------------------------------------
    def tree(self) -> str:
        """The tree below this folder, drawn with box-drawing characters:

        .. code-block:: text

            root
            ├── inbox
            │   └── todos
            └── archive
                ├── Last Job
                └── Mom
        """
        lines = [_display(self.name)]
        self._draw(lines, "")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """For Jupyter: the folder's counters as a table, and its subfolders as a tree of nested lists.

        The tree comes from the account's cached folder hierarchy (read once, on first use); at most
        :data:`HTML_TREE_LIMIT` subfolders are drawn.
        """
        d = self.__dict__
        rows = [(label, str(d[name])) for label, name in (
            ("folder class", "folder_class"), ("items", "total_count"), ("unread", "unread_count"),
            ("subfolders", "child_folder_count")) if d.get(name) is not None]
        tree = ""
        if self.id is not None and self.account is not None:
            try:
                rows.insert(0, ("path", self.absolute))
                budget = [HTML_TREE_LIMIT]
                tree = self._html_tree(budget)
                if budget[0] < 0:
                    tree += f"<p>\u2026 and {-budget[0]} more folders</p>"
            except EWSError as e:  # show why, instead of a traceback in the middle of a notebook
                tree = f"<p>Could not read the folder tree: {html.escape(str(e))}</p>"
        caption = html_caption(type(self), repr(self.name) if self.name is not None else "")
        return f'<div class="exchangelib-folder">{html_table(rows, caption=caption)}{tree}</div>'

    def _html_tree(self, budget: List[int]) -> str:
        """Nested ``<ul>`` of the subfolders with their item counts; ``budget[0]`` counts down the folders left."""
        items = []
        for child in self.children:
            budget[0] -= 1
            if budget[0] < 0:
                budget[0] -= sum(1 for _ in child.walk())  # count what is left out
                continue
            count = child.__dict__.get("total_count")
            label = html.escape(_display(child.name)) + (f" ({count})" if count is not None else "")
            items.append(f"<li>{label}{child._html_tree(budget)}</li>")
        return f"<ul>{''.join(items)}</ul>" if items else ""

    def _draw(self, lines: List[str], prefix: str) -> None:
        kids = list(self.children)
        for n, child in enumerate(kids, start=1):
            last = n == len(kids)
            lines.append(f"{prefix}{'└── ' if last else '├── '}{_display(child.name)}")
            child._draw(lines, prefix + ("    " if last else "│   "))


def _display(name: Optional[str]) -> str:
    """A name on one line of tree() output (line breaks inside a name would break the drawing)."""
    return (name or "").replace("\r", "\\r").replace("\n", "\\n")


def _unique(folders: List[Any]) -> List[Any]:
    seen = set()
    out = []
    for f in folders:
        key = id(f)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


__all__ = ["FolderNavigation", "glob_escape", "path_escape", "HTML_TREE_LIMIT"]
