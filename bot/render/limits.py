"""Slack's message limits, once: every renderer and the Slack answer path cut to these
(https://api.slack.com/reference/block-kit/blocks, chat.postMessage)."""

from __future__ import annotations

MAX_BLOCKS = 50  # blocks per message
MAX_SECTION = 3000  # a section's text; Slack rejects a longer one (and with it the whole message)
MAX_FIELD = 2000  # one section field
MAX_FIELDS = 10  # fields per section
MAX_HEADER = 150  # a header block's plain text
MAX_CONTEXT_ELEMENTS = 10  # elements per context block
MAX_TOTAL_CHARS = 12000  # all blocks of one message, serialised (Slack's limit is near 13k; kept under it)
MAX_BUTTON_VALUE = 2000  # a button's value
MAX_FALLBACK = 3000  # the notification / fallback `text` beside the blocks
