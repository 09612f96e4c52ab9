"""Names and descriptions made safe for every channel Tanium receives them on.

Rules (deterministic, documented in `docs/sync-matrix.md`):

- `single_line`: control, format (bidi, zero-width) and surrogate characters and Unicode
  noncharacters are removed, except that line breaks, tabs and other whitespace become a space;
  runs of whitespace collapse to one space; the ends are stripped. The result is a single
  line that any XML 1.0 document and any JSON string can carry.
- `cut`: longer text is cut to `limit` characters, the last being an ellipsis.
- `header_safe` (YARA name/description travel in HTTP headers): `single_line`, then every
  character outside printable ASCII is folded to ASCII — compatibility decomposition (NFKD)
  with combining marks dropped (`é` → `e`, `ﬁ` → `fi`), a short table for common typography
  (`ß` → `ss`, `–` → `-`, `…` → `...`), anything else becomes `?`. ASCII is the part of
  Latin-1 that every HTTP stack sends and reads back unchanged (httpx refuses non-ASCII `str`
  header values).
"""

from __future__ import annotations

import re
import unicodedata

NAME_LIMIT = 200
DESCRIPTION_LIMIT = 1000

_WHITESPACE = re.compile(r"\s+")
_FOLD = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "œ": "oe",
    "Œ": "OE",
    "þ": "th",
    "Þ": "Th",
    "ð": "d",
    "Ð": "D",
    "ı": "i",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "•": "*",
    "·": ".",
    "×": "x",
    "€": "EUR",
    "©": "(c)",
    "®": "(R)",
    "°": "deg",
}


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


_PLAIN_ASCII = re.compile(r"[\x20-\x7e\t\n\r]*")
"""Printable ASCII and ordinary whitespace: the common case, checked in C."""
_ONE_LINE = re.compile(r"(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?")
"""Printable ASCII words, one space between them, none at the ends: text `single_line` returns
unchanged (most names and descriptions; two per document per pass), checked in one C scan."""
is_one_line = _ONE_LINE.fullmatch
"""Whether `single_line` (and `clean`, within its limit) gives the text back unchanged."""


def printable(text: str) -> bool:
    """Whether `text` has no control, surrogate or noncharacter code point (so an XML 1.0
    document, a JSON string and a log line carry it unchanged)."""
    if _PLAIN_ASCII.fullmatch(text):
        return "\t" not in text and "\n" not in text and "\r" not in text
    return not any(
        unicodedata.category(ch) in ("Cc", "Cs") or _is_noncharacter(ord(ch)) for ch in text
    )


def single_line(text: str) -> str:
    """One line of printable text: see the module docstring."""
    if _ONE_LINE.fullmatch(text):
        return text
    return _one_line(text)


def _one_line(text: str) -> str:
    """`single_line` of text that is not one already."""
    if _PLAIN_ASCII.fullmatch(text):
        return _WHITESPACE.sub(" ", text).strip()
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs") or _is_noncharacter(ord(ch)):
            continue
        out.append(ch)
    return _WHITESPACE.sub(" ", "".join(out)).strip()


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis


def _fold_char(ch: str) -> str:
    if " " <= ch <= "~":
        return ch
    if ch in _FOLD:
        return _FOLD[ch]
    decomposed = "".join(
        c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
    )
    if decomposed and all(" " <= c <= "~" for c in decomposed):
        return decomposed
    return "?"


def ascii_fold(text: str) -> str:
    return "".join(_fold_char(ch) for ch in text)


def clean(text: str, limit: int) -> str:
    """A single line of at most `limit` characters (XML and JSON bodies)."""
    if _ONE_LINE.fullmatch(text):  # the common case: `text` itself, when short enough
        return text if len(text) <= limit else cut(text, limit)
    return cut(_one_line(text), limit)


def header_safe(text: str, limit: int) -> str:
    """A single printable-ASCII line of at most `limit` characters (HTTP header values)."""
    return cut(_WHITESPACE.sub(" ", ascii_fold(single_line(text))).strip(), limit, "...")
