"""Languages: the message catalogues (gettext through Babel) and the language in force for one answer.

Every user-facing sentence goes through `_` (or `ngettext`); English is the msgid itself, so an English answer is
byte-for-byte what the code says. Which language applies is set once where a request enters — the CLI, a Slack
command, a digest channel, an alert rule, the add-on — with `use(language)`, and read by the renderers and the
messages built on the way (errors, notes), so no function needs a language parameter.

Catalogues live in `bot/locale/<ll_CC>/LC_MESSAGES/messages.po`, compiled to the `.mo` beside it and checked in
(`tests/bot/test_i18n_catalog.py` fails when one is missing, fuzzy, stale or not compiled). To update them:

    uv run pybabel extract -F babel.cfg --omit-header --no-location --sort-output -o bot/locale/messages.pot .
    uv run pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching -w 120
    uv run pybabel compile -d bot/locale -D messages

then put the .po's fixed `POT-Creation-Date: 2026-11-30 00:00+0000` header back (update rewrites it) so the
diff holds only the messages, and regenerate the add-on script's table of words (bot/addon/script_strings.py):

    uv run python -m bot.addon.script_strings > sheets/addon/Strings.gs
 Babel warns "placeholders are incompatible" for a message with a literal `%`; that
is expected (the messages use `{}` placeholders).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, get_args

from config.settings import Language

LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT: Language = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("pulse_language", default=DEFAULT)


def babel_locale(language: str) -> str:
    """The Babel/gettext locale name of a configured language: "zh-CN" → "zh_CN", "en" → "en_US"."""
    return "en_US" if language == "en" else language.replace("-", "_")


@functools.cache
def translate(language: str) -> gettext.NullTranslations:
    """gettext/ngettext for `language`; English is the msgids themselves. An unknown language is a ValueError."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language '{language}'; accepted: {', '.join(LANGUAGES)}")
    if language == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, [babel_locale(language)])


def current() -> str:
    """The language of the answer being built ("en" unless a caller chose another with `use`)."""
    return _language.get()


def is_english() -> bool:
    """Whether the answer being built is in English (the formats of the code itself, unchanged)."""
    return _language.get() == DEFAULT


@contextmanager
def use(language: str | None) -> Iterator[None]:
    """Build everything inside the block in `language` (None keeps the one in force)."""
    if language is None:
        yield
        return
    translate(language)  # fail here, with the accepted list, not halfway through an answer
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def _(message: str, /, **params: Any) -> str:
    """`message` in the current language, with `{name}` placeholders filled from `params`."""
    text = translate(_language.get()).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The singular or plural form for `n` in the current language (Chinese has one form), placeholders filled."""
    text = translate(_language.get()).ngettext(singular, plural, n)
    return text.format(n=n, **params) if "{" in text else text


def pgettext(context: str, message: str, /, **params: Any) -> str:
    """`message` in the current language where the same English words need different translations by `context`."""
    text = translate(_language.get()).pgettext(context, message)
    return text.format(**params) if params else text


def N_(message: str, /) -> str:
    """Mark a constant for extraction; translate it with `_` where it is shown."""
    return message


def extract_catalogue(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extraction method (babel.cfg) for metrics/registry.py: each metric's label and help, translated where
    shown (`_(spec.label)`), so the one catalogue stays the source of both languages' metric names."""
    from metrics.registry import CATALOGUE

    for spec in CATALOGUE.values():
        yield 1, None, spec.label, [f"label of the metric `{spec.name}`"]
        yield 1, None, spec.help, [f"help text of the metric `{spec.name}`"]
