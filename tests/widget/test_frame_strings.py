"""The frame's strings table (STRINGS at the top of widget/static/widget/frame.js): every language says everything."""

from __future__ import annotations

import re
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "widget"
FRAME_JS = (WIDGET / "static" / "widget" / "frame.js").read_text()
FRAME_HTML = (WIDGET / "templates" / "widget" / "frame.html").read_text()


def strings_table() -> dict[str, set[str]]:
    """{language: its keys}, read from the source as it is laid out: each language opens a line, keys follow."""
    block = re.search(r"var STRINGS = \{\n(.*?)\n  \};", FRAME_JS, re.S).group(1)
    table: dict[str, set[str]] = {}
    for language, body in re.findall(r"^    (\w+): \{\n(.*?)\n    \},?$", block, re.S | re.M):
        table[language] = set(re.findall(r'(?:^\s*|,\s*)(\w+):\s*"', body, re.M))
    return table


def test_it_speaks_english_german_and_french():
    assert {"en", "de", "fr"} <= set(strings_table())


def test_it_has_every_string_in_every_language():
    table = strings_table()
    english = table["en"]

    for language, keys in table.items():
        assert keys == english, f"{language}: missing {sorted(english - keys)}, unknown {sorted(keys - english)}"


def test_it_has_a_string_for_every_key_the_frame_markup_and_code_name():
    named = set(re.findall(r'data-i18n="(\w+)"', FRAME_HTML))
    for pairs in re.findall(r'data-i18n-attr="([^"]+)"', FRAME_HTML):
        named |= {pair.split("=")[1] for pair in pairs.split()}
    named |= set(re.findall(r'\bt\("(\w+)"\s*[,)]', FRAME_JS))

    assert named, "the frame names no strings: has the markup changed?"
    assert named <= strings_table()["en"]
