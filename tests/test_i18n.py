import re
from pathlib import Path

import pytest

from allocator import i18n

ROOT = Path(__file__).resolve().parents[1]


def test_every_key_has_both_languages_and_same_placeholders():
    for key, entry in i18n.table().items():
        assert set(entry) == {"zh", "en"}, key
        assert entry["zh"].strip(), key
        assert entry["en"].strip(), key
        ph = {lang: set(re.findall(r"\{(\w+)", entry[lang])) for lang in ("zh", "en")}
        assert ph["zh"] == ph["en"], key


def test_translate_and_switch():
    assert i18n.t("app.title", "zh") == "综保区要素配置优化器"
    assert i18n.t("app.title", "en-US") == "Bonded-zone resource allocator"
    assert i18n.t("error.internal", "en", error="boom").startswith("Internal error: boom")
    with pytest.raises(KeyError):
        i18n.t("no.such.key")
    with pytest.raises(ValueError, match="unknown language"):
        i18n.normalize_lang("fr")


def test_keys_used_in_code_exist():
    """Every literal t("key") in the code base names a key of the table."""
    pattern = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']""")
    missing = []
    for path in [*ROOT.glob("allocator/**/*.py"), ROOT / "app.py"]:
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            if not i18n.has(key):
                missing.append((path.name, key))
    assert not missing
