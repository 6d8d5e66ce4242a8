"""The one place text is made safe for Slack: every sheet-derived (or user-typed) value goes through here.

Slack parses `&`, `<` and `>` as control characters in mrkdwn and in the message `text`, so `<!channel>`,
`<@U123>` or `<http://x|y>` in a cell would ping or link; they are sent as entities (plain_text objects and file
titles are shown verbatim and never parsed, so they keep them). In mrkdwn, `*`, `_`, `~` and `` ` `` format text
and Slack has no backslash escape, so they are replaced by look-alike characters that do not format.
Bidirectional controls (which reorder what is shown) and zero-width characters (which hide or split words) are
removed everywhere.
"""

from __future__ import annotations

import re

# Bidi embeddings/overrides U+202A–U+202E, isolates U+2066–U+2069, LRM/RLM U+200E/F, Arabic letter mark
# U+061C; zero-width space/non-joiner/joiner U+200B–U+200D, word joiner U+2060, BOM / zero-width no-break U+FEFF.
CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]")
ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# asterisk operator, modifier letter low macron, tilde operator, modifier letter grave accent
MARKUP = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})
BACKTICK = str.maketrans({"`": "\u02cb"})


def plain(value: object) -> str:
    """For plain_text objects, file titles, alt text (shown verbatim, never parsed for mentions): controls removed."""
    return CONTROLS.sub("", str(value))


def markup(template: str) -> str:
    """For mrkdwn of our own wording that holds no sheet value (help): keeps its formatting; `& < >` as entities."""
    return plain(template).translate(ENTITIES)


def mrkdwn(value: object) -> str:
    """For mrkdwn text and the message `text`: `& < >` as entities, formatting characters inert, controls removed."""
    return markup(str(value)).translate(MARKUP)


def code(value: object) -> str:
    """For text inside a ``` block: `& < >` as entities, no backtick that could close the block, controls removed."""
    return markup(str(value)).translate(BACKTICK)
