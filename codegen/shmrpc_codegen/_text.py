"""Line layout shared by the emitters, written so that the output is already formatted:
clang-format 14 with the repository's .clang-format (Google, 100 columns) leaves generated C++
as it is, and Python stays within 100 columns too."""

from __future__ import annotations

__all__ = ["COLUMNS", "wrap_list", "wrap_words", "split_string"]

COLUMNS = 100


def wrap_words(text: str, prefix: str, columns: int = COLUMNS) -> list[str]:
    """`text` as lines that start with `prefix` ("/// ", "    "), filled word by word (a word
    longer than a line keeps a line of its own), as clang-format reflows comments."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        if not words:
            lines.append(prefix.rstrip())
            continue
        line = prefix + words[0]
        for word in words[1:]:
            if len(line) + 1 + len(word) <= columns:
                line += " " + word
            else:
                lines.append(line)
                line = prefix + word
        lines.append(line)
    return lines


def _fill(items: list[str], tail: str, first: str, indent: str, columns: int) -> list[str]:
    """The items joined by ", " and ended by `tail`, filled line by line: the first line starts
    with `first`, the others with `indent`."""
    lines: list[str] = []
    line = first
    for i, item in enumerate(items):
        piece = item + (tail if i == len(items) - 1 else ",")
        if line in (first, indent):
            line += piece
        elif len(line) + 1 + len(piece) <= columns:
            line += " " + piece
        else:
            lines.append(line)
            line = indent + piece
    lines.append(line)
    return lines


def wrap_list(head: str, items: list[str], tail: str, columns: int = COLUMNS) -> list[str]:
    """``head + ", ".join(items) + tail`` on one line if it fits, else items filled line by line
    with the continuation lines aligned after `head` (clang-format's AlignAfterOpenBracket)."""
    one = head + ", ".join(items) + tail
    if len(one) <= columns or not items:
        return [one]
    lines = _fill(items, tail, head, " " * len(head), columns)
    if all(len(text) <= columns for text in lines):
        return lines
    # An item too long to align after the bracket: break after it instead, with the items on
    # continuation lines four columns in (clang-format's choice in that case).
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    return [head.rstrip(), *_fill(items, tail, indent, indent, columns)]


def split_string(text: str, indent: str, suffix: str, columns: int = COLUMNS) -> list[str]:
    """The C++ string literal of `text` (no quotes or backslashes in it, which the caller checks)
    as adjacent literals, each line within `columns`: broken after a space, as clang-format
    breaks long string literals. `suffix` follows the last literal (",")."""
    lines: list[str] = []
    rest = text
    room = columns - len(indent) - 2  # the quotes
    while len(rest) + len(suffix) > room:
        cut = rest.rfind(" ", 0, room)
        if cut <= 0:
            break  # no space to break at: one long literal
        lines.append(f'{indent}"{rest[:cut + 1]}"')
        rest = rest[cut + 1:]
    lines.append(f'{indent}"{rest}"{suffix}')
    return lines
