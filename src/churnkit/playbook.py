"""The retention playbook: which script an account manager follows for each reason family.

The packaged playbook (``churnkit/playbook.toml``) holds at least one script per reason family,
each in Chinese and English, written after the retention practice of the course material:
prepare (analyse three months of bills, design at least two offers), ask the must-ask questions,
offer the levers that fit the cause, say the must-say lines, then close, record and follow up.
Users may replace it with their own file (``churnkit score --playbook FILE``); a file that
cannot be used is refused with a one-line message naming the fix.

Examples
--------
>>> book = load_playbook()
>>> book.script_for("contract_expiry", "en").id
'RS-CONTRACT-01'
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from churnkit.errors import DataError, StorageError
from churnkit.families import FAMILIES, LANGS

SUPPORTED_VERSIONS = ("1",)
ACTORS = ("visit", "call", "care")
TEXT_FIELDS = ("title", "prepare", "close")
LIST_FIELDS = ("must_ask", "levers", "must_say")
STEP_SEPARATOR = " | "

_LABELS = {
    "zh": {"prepare": "准备", "must_ask": "必问", "levers": "方案", "must_say": "必说", "close": "收尾"},
    "en": {"prepare": "Prepare", "must_ask": "Must ask", "levers": "Offer", "must_say": "Must say", "close": "Close"},
}
_COLON = {"zh": "：", "en": ": "}
_ITEM_SEPARATOR = {"zh": "；", "en": "; "}
_ENDINGS = ("？", "！", "。", "?", "!", ".")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_PACKAGED = "built-in playbook churnkit/playbook.toml"


@dataclass(frozen=True)
class Script:
    """One retention script in one language.

    ``steps`` is a single line of numbered steps joined by ``" | "``, e.g.
    ``"1. 准备：... | 2. 必问：... | 3. 方案：... | 4. 必说：... | 5. 收尾：..."``.
    ``actor`` is who acts by default: ``visit``, ``call`` or ``care``.
    """

    id: str
    family: str
    actor: str
    title: str
    steps: str


class Playbook:
    """The scripts of a playbook file, looked up by reason family and language."""

    def __init__(self, version: str, scripts: dict[str, tuple[Script, ...]], source: str = _PACKAGED):
        self.version = version
        self.source = source
        self._scripts = scripts
        self._first = {}
        for lang, items in scripts.items():
            for script in items:
                self._first.setdefault((script.family, lang), script)

    def __repr__(self) -> str:
        return f"Playbook(version={self.version!r}, source={self.source!r}, scripts={len(self.scripts())})"

    def scripts(self, lang: str = "zh") -> tuple[Script, ...]:
        """All scripts in file order, in language ``lang``."""
        _check_lang(lang)
        return self._scripts.get(lang, ())

    def script_for(self, family: str, lang: str = "zh") -> Script:
        """The script recommended for reason ``family`` (the first one the file lists for it)."""
        if family not in FAMILIES:
            raise ValueError(f"unknown reason family {family!r}; expected one of {', '.join(FAMILIES)}")
        _check_lang(lang)
        try:
            return self._first[(family, lang)]
        except KeyError:  # only reachable for a Playbook built by hand, files are checked on load
            raise ValueError(f"{self.source} has no {lang} script for reason family {family!r}") from None


def load_playbook(path: Path | str | None = None) -> Playbook:
    """Read and check a playbook file; ``None`` reads the packaged one.

    Raises
    ------
    DataError
        The file does not exist, is not valid TOML, or lacks a family, a language or a field.
    StorageError
        The file exists but cannot be read or is not UTF-8 text.
    """
    if path is None:
        data = files("churnkit").joinpath("playbook.toml").read_bytes()
        return _parse(_decode_toml(data, _PACKAGED), _PACKAGED)
    path = Path(path)
    name = f"playbook {path}"
    if not path.exists():
        raise DataError(f"{name} does not exist; check the --playbook path, or leave the option out to use the built-in playbook")
    if path.is_dir():
        raise DataError(f"{name} is a folder; pass the path of a .toml playbook file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageError(f"{name} cannot be read ({exc.strerror or exc}); check its permissions") from None
    return _parse(_decode_toml(data, name), name)


def render_steps(fields: dict[str, Any], lang: str) -> str:
    """Number the sections of one language table and join them into the ``steps`` line."""
    labels, colon = _LABELS[lang], _COLON[lang]
    parts = []
    for number, key in enumerate(("prepare", "must_ask", "levers", "must_say", "close"), start=1):
        value = fields[key]
        text = _join_items(value, lang) if isinstance(value, list) else value.strip()
        parts.append(f"{number}. {labels[key]}{colon}{text}")
    return STEP_SEPARATOR.join(parts)


def _join_items(items: list[str], lang: str) -> str:
    """Number list items, ①②③ in Chinese and (1) (2) (3) in English, separated by semicolons."""
    out = ""
    for number, item in enumerate((i.strip() for i in items), start=1):
        if out:
            ended = out.endswith(_ENDINGS)
            out += ("" if lang == "zh" else " ") if ended else _ITEM_SEPARATOR[lang]
        use_circled = lang == "zh" and number <= len(_CIRCLED)
        out += f"{_CIRCLED[number - 1]}{item}" if use_circled else f"({number}) {item}"
    return out


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")


def _decode_toml(data: bytes, name: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StorageError(f"{name} is not UTF-8 text; save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"{name} is not valid TOML ({detail}); fix the syntax, starting from the built-in playbook") from None


def _parse(doc: dict[str, Any], name: str) -> Playbook:
    version = doc.get("version")
    if version is None:
        raise DataError(f'{name} has no top-level version; add version = "1" as its first line')
    if str(version) not in SUPPORTED_VERSIONS:
        raise DataError(f'{name} has version {version!r}, which this churnkit does not read; use version = "1"')
    entries = doc.get("script")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise DataError(f"{name} has no [[script]] tables; add one per reason family ({', '.join(FAMILIES)})")
    by_lang: dict[str, list[Script]] = {lang: [] for lang in LANGS}
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        for lang, script in _parse_script(entry, number, name, seen).items():
            by_lang[lang].append(script)
    covered = {s.family for s in by_lang[LANGS[0]]}
    missing = [f for f in FAMILIES if f not in covered]
    if missing:
        raise DataError(
            f"{name} has no script for reason famil{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}; "
            f"add a [[script]] with family = \"{missing[0]}\" and [script.zh] and [script.en] tables (copy it from the built-in playbook)"
        )
    return Playbook(str(version), {lang: tuple(items) for lang, items in by_lang.items()}, name)


def _parse_script(entry: dict[str, Any], number: int, name: str, seen: set[str]) -> dict[str, Script]:
    sid = entry.get("id")
    where = f"{name}, script #{number}"
    if not isinstance(sid, str) or not sid.strip():
        raise DataError(f'{where} has no id; add id = "RS-...-01"')
    sid = sid.strip()
    where = f"{name}, script {sid}"
    if sid in seen:
        raise DataError(f"{where}: the id is used twice; give each script its own id")
    seen.add(sid)
    family = entry.get("family")
    if family not in FAMILIES:
        raise DataError(f"{where}: family {family!r} is not a reason family; use one of {', '.join(FAMILIES)}")
    actor = entry.get("actor")
    if actor not in ACTORS:
        raise DataError(f"{where}: actor {actor!r} is not allowed; use one of {', '.join(ACTORS)}")
    out = {}
    for lang in LANGS:
        table = entry.get(lang)
        if not isinstance(table, dict):
            raise DataError(
                f"{where} (family {family}) has no [script.{lang}] table; add it with "
                f"{', '.join(TEXT_FIELDS + LIST_FIELDS)} in language {lang}"
            )
        for key in TEXT_FIELDS:
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f'{where}: [script.{lang}] needs a non-empty text {key} = "..."')
            _check_text(value, where, lang, key)
        for key in LIST_FIELDS:
            value = table.get(key)
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                raise DataError(f'{where}: [script.{lang}] needs {key} = ["...", ...], a non-empty list of texts')
            for v in value:
                _check_text(v, where, lang, key)
        out[lang] = Script(sid, family, actor, table["title"].strip(), render_steps(table, lang))
    return out


def _check_text(value: str, where: str, lang: str, key: str) -> None:
    if "|" in value or "\n" in value.strip():
        raise DataError(f"{where}: [script.{lang}] {key} contains '|' or a line break; write it on one line without '|'")
