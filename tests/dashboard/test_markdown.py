"""dashboard.markdown: user text shown literally, whatever Markdown it holds (the
browser side is tests/browser/test_user_text.py)."""

import pytest

from dashboard.markdown import JOINER, plain, table

HOSTILE = {
    "link": "[Log in](https://example.invalid/x)",
    "image": "![](http://127.0.0.1:9/p.png)",
    "maths": "$x^2$",
    "colour": ":red[alarm]",
    "icon": ":material/warning:",
    "emphasis": "**bold** _it_ ~~gone~~",
    "code": "`rm -rf`",
    "html": "<img src=x onerror=alert(1)>",
    "bare links": "see https://a.invalid, WWW.b.invalid or me@c.invalid",
    "heading": "# big",
}


def _as_shown(escaped: str) -> str:
    """What a reader sees: the escapes resolved, the invisible joiners dropped."""
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 1
        out.append(escaped[i])
        i += 1
    return "".join(out).replace(JOINER, "")


@pytest.mark.parametrize("name", HOSTILE)
def test_markdown_syntax_is_escaped_and_reads_as_written(name):
    text = HOSTILE[name]
    escaped = plain(text)
    for i, ch in enumerate(escaped):
        if ch in "[]()!$:<>`*_~#{}|":
            assert escaped[i - 1] == "\\", (name, escaped)
    assert _as_shown(escaped) == text


def test_bare_links_are_broken_by_an_invisible_joiner():
    escaped = plain("https://a.invalid www.b.invalid WWW.c.invalid me@d.invalid")
    assert "://" not in escaped.replace("\\", "")
    assert "www." not in escaped.lower() and "@" in escaped
    assert escaped.count(JOINER) == 4


def test_plain_text_stays_readable_and_on_one_line():
    assert plain("ignored lr='abc', a value, 0.05.") == "ignored lr='abc', a value, 0.05."
    assert plain("two\nlines\t here") == "two lines here"
    assert plain("a\\b") == "a\\\\b"


def test_a_table_shows_every_cell_as_written_numbers_aligned_right():
    text = table(["weight", "value"], [["W1[3, 4]", "-1.5e-05"], ["b|2", 3]], right=[False, True])
    lines = text.splitlines()
    assert lines[:2] == [r"| weight | value |", "|:---|---:|"]
    assert lines[2] == r"| W1\[3, 4\] | -1.5e-05 |"  # brackets are text, not a link
    assert lines[3] == r"| b\|2 | 3 |"  # a pipe in a cell does not split it
    assert len(lines) == 4
