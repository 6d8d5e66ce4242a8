"""The message catalogues: every English sentence has a Chinese translation, none is stale, and the .mo is compiled.

The code is extracted afresh with Babel (the same `babel.cfg` the README's update commands use) and compared with
the checked-in `messages.pot` and `zh_CN/.../messages.po`; the checked-in `.mo` must hold exactly the `.po`.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALE_DIR, babel_locale

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]*[^}]*\}")


def _key(msgid: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    return context, msgid if isinstance(msgid, str) else msgid[0]


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], str | tuple[str, ...]]:
    """Every msgid in the code now, extracted as `pybabel extract -F babel.cfg` would."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {}
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        found[_key(message, context)] = message
    return found


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=None if path.suffix == ".pot" else "zh_CN")


def _po(language: str) -> Path:
    return LOCALE_DIR / babel_locale(language) / "LC_MESSAGES" / "messages.po"


TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


def test_the_template_holds_every_message_of_the_code(extracted) -> None:
    template = {_key(m.id, m.context) for m in _read(LOCALE_DIR / "messages.pot") if m.id}
    assert set(extracted) - template == set(), "run the README's pybabel extract command"
    assert template - set(extracted) == set(), "messages.pot lists messages the code no longer has"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_current_translation(extracted, language: str) -> None:
    catalog = _read(_po(language))
    entries = {_key(m.id, m.context): m for m in catalog if m.id}
    missing = sorted(k[1] for k in set(extracted) - set(entries))
    assert missing == [], f"not in the {language} catalogue (pybabel update)"
    stale = sorted(k[1] for k in set(entries) - set(extracted))
    assert stale == [], f"{language} translations of messages the code no longer has"
    untranslated = sorted(
        k[1] for k, m in entries.items() if not (m.string if isinstance(m.string, str) else all(m.string))
    )
    assert untranslated == []
    fuzzy = sorted(k[1] for k, m in entries.items() if m.fuzzy)
    assert fuzzy == [], "fuzzy translations are not used; check and unmark them"
    assert catalog.plural_forms == "nplurals=1; plural=0;"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    """A translation names exactly the `{placeholders}` of its English message (else .format would fail)."""
    wrong = []
    for m in _read(_po(language)):
        if not m.id:
            continue
        source = m.id if isinstance(m.id, str) else m.id[-1]
        for text in [m.string] if isinstance(m.string, str) else m.string:
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text)):
                wrong.append((source, text))
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_up_to_date(language: str) -> None:
    """The checked-in .mo holds exactly the .po's translations (pybabel compile after every edit)."""
    po = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m.string if isinstance(m.string, str) else m.string[0]
        for m in _read(_po(language))
        if m.id
    }
    with _po(language).with_suffix(".mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    compiled = {}
    for key, text in mo._catalog.items():  # type: ignore[attr-defined]
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or (isinstance(key, tuple) and key[1] != 0):
            continue
        context, _, msgid = msgid.rpartition("\x04")
        compiled[(context or None, msgid)] = text
    assert compiled == po
