"""The retention playbook: packaged scripts, custom files and the errors for unusable ones."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from churnkit.errors import DataError, StorageError
from churnkit.families import FAMILIES, FAMILY_LABELS, LANGS, family_label
from churnkit.playbook import ACTORS, Playbook, Script, load_playbook, render_steps

PACKAGED_TEXT = files("churnkit").joinpath("playbook.toml").read_text(encoding="utf-8")
PACKAGED = tomllib.loads(PACKAGED_TEXT)


def blocks(text: str) -> tuple[str, list[str]]:
    """Split a playbook into its header and one text block per [[script]]."""
    head, *rest = text.split("\n[[script]]\n")
    return head, ["\n[[script]]\n" + block for block in rest]


def write(tmp_path: Path, text: str, name: str = "book.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, kind: type[Exception] = DataError) -> str:
    with pytest.raises(kind) as info:
        load_playbook(path)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return message


# ---------------------------------------------------------------- the packaged playbook
def test_packaged_playbook_is_version_1():
    book = load_playbook()
    assert isinstance(book, Playbook)
    assert book.version == "1"
    assert PACKAGED["version"] == "1"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_a_complete_script_in_both_languages(family, lang):
    script = load_playbook().script_for(family, lang)
    assert isinstance(script, Script)
    assert script.family == family
    assert script.id.startswith("RS-") and script.title.strip() and script.steps.strip()
    assert script.actor in ACTORS
    parts = script.steps.split(" | ")
    assert [p.split(".", 1)[0] for p in parts] == ["1", "2", "3", "4", "5"]
    assert all(p.split(" ", 1)[1].strip() for p in parts)
    first = "1. 准备：" if lang == "zh" else "1. Prepare: "
    assert script.steps.startswith(first)


def test_raw_scripts_have_every_field_in_both_languages():
    for entry in PACKAGED["script"]:
        for lang in LANGS:
            table = entry[lang]
            for key in ("title", "prepare", "close"):
                assert table[key].strip(), (entry["id"], lang, key)
            for key in ("must_ask", "levers", "must_say"):
                assert table[key] and all(item.strip() for item in table[key]), (entry["id"], lang, key)


def test_ids_are_unique_and_shared_across_languages():
    ids = [entry["id"] for entry in PACKAGED["script"]]
    assert len(ids) == len(set(ids))
    book = load_playbook()
    for family in FAMILIES:
        assert book.script_for(family, "zh").id == book.script_for(family, "en").id


def test_steps_contain_every_must_ask_and_must_say_item():
    book = load_playbook()
    by_id = {lang: {s.id: s for s in book.scripts(lang)} for lang in LANGS}
    for entry in PACKAGED["script"]:
        for lang in LANGS:
            steps = by_id[lang][entry["id"]].steps
            for key in ("must_ask", "levers", "must_say"):
                for item in entry[lang][key]:
                    assert item in steps, (entry["id"], lang, item)
            assert entry[lang]["prepare"] in steps and entry[lang]["close"] in steps


def test_render_steps_numbers_sections_and_items():
    table = {"prepare": "准备两套方案", "must_ask": ["为什么？", "什么时候"], "levers": ["续约奖励", "赠机"],
             "must_say": ["谢谢"], "close": "记录并回访"}
    assert render_steps(table, "zh") == (
        "1. 准备：准备两套方案 | 2. 必问：①为什么？②什么时候 | 3. 方案：①续约奖励；②赠机 | 4. 必说：①谢谢 | 5. 收尾：记录并回访")
    table = {"prepare": "Prepare two offers", "must_ask": ["Why?", "When"], "levers": ["Renewal", "Handset"],
             "must_say": ["Thanks"], "close": "Record"}
    assert render_steps(table, "en") == (
        "1. Prepare: Prepare two offers | 2. Must ask: (1) Why? (2) When | 3. Offer: (1) Renewal; (2) Handset"
        " | 4. Must say: (1) Thanks | 5. Close: Record")


def test_packaged_scripts_cover_the_retention_practice():
    book = load_playbook()
    zh = {f: book.script_for(f, "zh").steps for f in FAMILIES}
    en = {f: book.script_for(f, "en").steps for f in FAMILIES}
    assert "续约" in zh["contract_expiry"] and "renew" in en["contract_expiry"].lower()
    assert "关键人" in zh["competitor_contact"] and "key persons" in en["competitor_contact"]
    assert "家人" in zh["idle_lines"] and "family" in en["idle_lines"]
    assert "记录" in zh["complaints"] and "what went wrong" in en["complaints"]
    assert "恶意欠费" in zh["arrears"] and "malicious" in en["arrears"]
    for family in FAMILIES:
        if family != "arrears":
            assert "近三个月账单" in zh[family] and "last three months of bills" in en[family], family
            assert "至少两" in zh[family] and "at least two" in en[family], family
    assert load_playbook().script_for("arrears").actor != "visit"


def test_unknown_family_or_language_is_a_value_error():
    book = load_playbook()
    with pytest.raises(ValueError, match="unknown reason family"):
        book.script_for("weather")
    with pytest.raises(ValueError, match="unknown language"):
        book.script_for("arrears", "fr")


def test_family_labels_cover_every_family_in_both_languages():
    assert len(FAMILIES) == 11 and set(FAMILY_LABELS) == set(FAMILIES)
    for family in FAMILIES:
        assert all(FAMILY_LABELS[family][lang].strip() for lang in LANGS)
    assert family_label("idle_lines", "en") == "idle lines"
    with pytest.raises(ValueError):
        family_label("weather")


# ---------------------------------------------------------------- custom playbooks
def test_custom_playbook_replaces_the_packaged_one(tmp_path):
    text = PACKAGED_TEXT.replace("协议即将到期：提前续签，顺势升级", "协议到期：本地版").replace('"RS-CONTRACT-01"', '"LOCAL-CONTRACT"')
    book = load_playbook(write(tmp_path, text))
    script = book.script_for("contract_expiry", "zh")
    assert (script.id, script.title) == ("LOCAL-CONTRACT", "协议到期：本地版")
    assert str(tmp_path) in book.source
    assert load_playbook(str(tmp_path / "book.toml")).script_for("contract_expiry").id == "LOCAL-CONTRACT"


def test_first_script_of_a_family_is_the_default(tmp_path):
    head, scripts = blocks(PACKAGED_TEXT)
    arrears = next(b for b in scripts if 'family = "arrears"' in b)
    extra = arrears.replace('"RS-ARREARS-01"', '"RS-ARREARS-02"')
    book = load_playbook(write(tmp_path, head + "".join(scripts) + extra))
    assert book.script_for("arrears").id == "RS-ARREARS-01"
    assert len(book.scripts("en")) == len(scripts) + 1


def test_missing_file_names_the_path(tmp_path):
    message = error_of(tmp_path / "nowhere.toml")
    assert "nowhere.toml" in message and "does not exist" in message and "--playbook" in message


def test_folder_instead_of_file(tmp_path):
    assert "folder" in error_of(tmp_path)


def test_invalid_toml(tmp_path):
    path = write(tmp_path, PACKAGED_TEXT + "\nthis is = = not toml\n")
    message = error_of(path)
    assert str(path) in message and "not valid TOML" in message and "line" in message


def test_not_utf8_is_a_storage_error(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes(PACKAGED_TEXT.encode("gb18030"))
    assert "UTF-8" in error_of(path, StorageError)


def test_missing_family_names_it_and_the_fix(tmp_path):
    head, scripts = blocks(PACKAGED_TEXT)
    kept = [b for b in scripts if 'family = "arrears"' not in b and 'family = "profile"' not in b]
    path = write(tmp_path, head + "".join(kept))
    message = error_of(path)
    assert str(path) in message and "arrears, profile" in message and 'family = "arrears"' in message


def test_missing_language_names_it(tmp_path):
    head, scripts = blocks(PACKAGED_TEXT)
    scripts = [b.split("[script.en]")[0] if 'family = "complaints"' in b else b for b in scripts]
    message = error_of(write(tmp_path, head + "".join(scripts)))
    assert "[script.en]" in message and "complaints" in message and "RS-COMPLAINT-01" in message


def test_missing_field_names_it(tmp_path):
    text = PACKAGED_TEXT.replace('must_say = [\n  "感谢您长期使用我们的网络",', 'unused = [\n  "感谢您长期使用我们的网络",')
    message = error_of(write(tmp_path, text))
    assert "RS-FORWARD-01" in message and "must_say" in message and "[script.zh]" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('version = "1"', 'version = "7"', "version"),
        ('version = "1"', "", "no top-level version"),
        ('actor = "care"', 'actor = "email"', "actor"),
        ('family = "profile"', 'family = "weather"', "not a reason family"),
        ('"RS-IDLE-01"', '"RS-SPEND-01"', "used twice"),
        ('title = "投诉较多：先解决问题，再谈挽留"', 'title = "投诉 | 较多"', "'|'"),
        ('title = "投诉较多：先解决问题，再谈挽留"', 'title = ""', "title"),
    ],
)
def test_other_broken_playbooks(tmp_path, old, new, expected):
    assert old in PACKAGED_TEXT
    message = error_of(write(tmp_path, PACKAGED_TEXT.replace(old, new, 1)))
    assert expected in message and "book.toml" in message


def test_playbook_without_scripts(tmp_path):
    assert "[[script]]" in error_of(write(tmp_path, 'version = "1"\n'))
