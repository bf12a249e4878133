"""User text shown as text.

Streamlit renders the strings it shows as Markdown: ``[x](url)`` becomes a link,
``![](url)`` makes every visitor's browser fetch ``url``, ``$x^2$`` becomes LaTeX,
``:red[x]`` coloured text, and a bare ``https://…``, ``www.…`` or ``me@host`` a link.
Anything a user typed, uploaded or put in a URL goes through :func:`plain` before it is
shown, so it reads exactly as it was written and nothing in it is live.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# The characters that start Markdown syntax here: links and images ([ ] ( ) !), code
# (`), emphasis (* _ ~), maths ($), Streamlit's directives and icons (:), HTML (< >),
# tables (|), headings (#), braces ({ }) and the escape itself. Every ASCII punctuation
# character may be backslash-escaped in (CommonMark) Markdown and is then shown as
# itself; commas, full stops and quotes stay as they are.
_SYNTAX = re.compile(r"([\\`*_~\[\]()!$:<>|#{}])")
# Bare links are found in the text after the escapes are resolved (checked in Chromium:
# an escaped "https\://" is still linked), so an invisible WORD JOINER breaks the three
# patterns the linker looks for: "scheme://", "www." and "name@host".
JOINER = "\u2060"
_LINKS = re.compile(r"(?i)(://|www\.|@)")


def _unlink(match: re.Match) -> str:
    found = match.group(0)
    return {"://": f":{JOINER}//", "@": f"{JOINER}@"}.get(found, f"{found[:3]}{JOINER}.")


def plain(text: str) -> str:
    """``text`` on one line, shown by Markdown exactly as written: no link, image,
    maths, formatting or icon."""
    one_line = " ".join(str(text).split())
    return _SYNTAX.sub(r"\\\1", _LINKS.sub(_unlink, one_line))


def table(header: Sequence[str], rows: Iterable[Sequence[object]],
          right: Sequence[bool] = ()) -> str:
    """A Markdown table: ``header``, then one line per row, every cell shown as written
    (:func:`plain`); the columns flagged in ``right`` (numbers) aligned right. A few rows
    of numbers this way are an HTML table in the browser, far lighter than a data grid."""
    flags = [bool(right[c]) if c < len(right) else False for c in range(len(header))]
    lines = ["| " + " | ".join(plain(h) for h in header) + " |",
             "|" + "|".join("---:" if f else ":---" for f in flags) + "|"]
    lines += ["| " + " | ".join(plain(str(cell)) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
