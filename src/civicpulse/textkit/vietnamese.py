"""Vietnamese text at the character level: marks, tone placement, syllables, abbreviations, folding.

Shared by the stages, insight and search; nothing here changes the raw text that is stored.

Tone-mark convention: the traditional ("old") placement, as in official documents
("Cộng hòa", "Khánh Hòa", "thủy lợi", "khỏe"): in an open syllable whose rhyme is ``oa``, ``oe``
or ``uy`` the mark sits on the first vowel (hòa, khỏe, thủy). Text typed in the other
convention (hoà, khoẻ, thuỷ) and misplaced marks (qúa, gìa) are mapped onto it, upper case too.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import groupby

from civicpulse.textkit.offsets import MappedText

TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng
_VOWELS = "aăâeêioôơuưy"
_QUALITY_VOWELS = "ăâêôơư"
_ONSETS = frozenset(
    {"", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh"}
    | {"p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"}
)
_CODAS = frozenset(["", "c", "ch", "m", "n", "ng", "nh", "p", "t"])


def _tables() -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str], dict[int, str]]:
    split: dict[str, tuple[str, str]] = {}
    join: dict[tuple[str, str], str] = {}
    strip: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for base in _VOWELS + _VOWELS.upper():
        ascii_base = unicodedata.normalize("NFD", base)[0]
        for tone in ("", *TONES):
            char = unicodedata.normalize("NFC", base + tone)
            split[char] = (base, tone)
            join[(base, tone)] = char
            if char != ascii_base:
                strip[ord(char)] = ascii_base
    return split, join, strip


_SPLIT, _JOIN, _STRIP = _tables()
VIETNAMESE_MARKED = frozenset(chr(code) for code in _STRIP)
"""Letters that carry a Vietnamese tone or quality mark (or are đ)."""

_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"[^\W_]+")
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r" ?\n[\s]*")
_COMPOSED = re.compile(r".[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+", re.DOTALL)
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_RETURNS = re.compile(r"\r\n?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_marks(text: str) -> str:
    """Text with every Vietnamese tone and quality mark removed and đ written d."""
    return text.translate(_STRIP)


def has_marks(text: str) -> bool:
    """Whether any letter carries a Vietnamese mark."""
    return any(char in VIETNAMESE_MARKED for char in text)


def _syllable_span(base: list[str]) -> tuple[int, int] | None:
    """Where the vowel nucleus of a toneless, lower-case syllable lies; ``None`` if not one."""
    vowel_at = [i for i, c in enumerate(base) if c in _VOWELS]
    if not vowel_at or vowel_at[-1] + 1 - vowel_at[0] != len(vowel_at) or len(vowel_at) > 3:
        return None
    start, end = vowel_at[0], vowel_at[-1] + 1
    onset = "".join(base[:start])
    if onset == "q" or (onset == "g" and base[start] == "i" and end - start > 1):
        if end - start == 1:
            return None
        start += 1
        onset += base[start - 1]
    if onset not in _ONSETS or "".join(base[end:]) not in _CODAS:
        return None
    return start, end


def is_syllable(word: str) -> bool:
    """Whether a lower-case word is shaped like one Vietnamese syllable (at most one tone)."""
    marks = [_SPLIT[c] for c in word if c in _SPLIT]
    if sum(1 for _, tone in marks if tone) > 1:
        return False
    return _syllable_span([_SPLIT[c][0] if c in _SPLIT else c for c in word]) is not None


def place_tone(word: str, *, old_style: bool = True) -> str:
    """One syllable with its tone mark on the conventional vowel; other words unchanged."""
    lower = word.lower()
    toned = [(i, _SPLIT[c][1]) for i, c in enumerate(lower) if c in _SPLIT and _SPLIT[c][1]]
    if len(toned) != 1:
        return word
    base = [_SPLIT[c][0] if c in _SPLIT else c for c in lower]
    span = _syllable_span(base)
    if span is None:
        return word
    start, end = span
    nucleus = "".join(base[start:end])
    quality = [k for k, c in enumerate(nucleus) if c in _QUALITY_VOWELS]
    if quality:
        pos = quality[-1]
    elif end < len(base) or len(nucleus) == 1:
        pos = len(nucleus) - 1
    elif len(nucleus) == 2:
        pos = (0 if old_style else 1) if nucleus in ("oa", "oe", "uy") else 0
    else:
        pos = 1
    target, (source, tone) = start + pos, toned[0]
    if target == source:
        return word
    chars = list(word)
    for index, mark in ((source, ""), (target, tone)):
        plain = _SPLIT[chars[index]][0]
        chars[index] = _JOIN[(plain, mark)]
    return "".join(chars)


def squeeze_repeats(word: str, *, vietnamese: bool = True) -> str:
    """Collapse letters typed repeatedly for emphasis ("quááá" -> "quá", "điiii" -> "đi").

    Vietnamese keeps a pair of o or u ("xoong", "huu" = hưu typed without marks) and collapses
    every other run; other languages only lose the third and later repeats ("sooo" -> "soo").
    """
    out: list[str] = []
    for key, group in groupby(word, key=_repeat_key):
        chars = list(group)
        if len(chars) == 1 or (len(chars) == 2 and (not vietnamese or key in "ou")):
            out.extend(chars)
        elif not vietnamese:
            out.extend(chars[:2])
        else:
            toned = [c for c in chars if _SPLIT.get(c.lower(), ("", ""))[1]]
            out.append(toned[0] if toned else chars[0])
    return "".join(out)


def _repeat_key(char: str) -> str:
    low = char.lower()
    return _SPLIT[low][0] if low in _SPLIT else low


@dataclass(frozen=True)
class Abbreviations:
    """Chat abbreviations: plain ones and ambiguous ones resolved by the neighbouring tokens."""

    plain: dict[str, str]
    contextual: dict[str, list[tuple[str, frozenset[str], frozenset[str]]]]

    def expand(self, key: str, previous: str, following: str) -> str | None:
        """The expansion of ``key`` (lower case) between two tokens, or ``None``."""
        if key in self.plain:
            return self.plain[key]
        readings = self.contextual.get(key)
        if not readings:
            return None
        for reading, _after, before in readings:
            if following in before:
                return reading
        for reading, after, _before in readings:
            if previous in after:
                return reading
        return None


@lru_cache(maxsize=1)
def abbreviations() -> Abbreviations:
    """The packaged abbreviation table (``data/vi_abbreviations.toml``)."""
    raw = tomllib.loads(
        (resources.files("civicpulse") / "data" / "vi_abbreviations.toml").read_text(encoding="utf-8")
    )
    plain = {unicodedata.normalize("NFC", k): v for k, v in raw.get("abbreviations", {}).items()}
    contextual = {
        key: [
            (reading, frozenset(rule.get("after", ())), frozenset(rule.get("before", ())))
            for reading, rule in readings.items()
        ]
        for key, readings in raw.get("contextual", {}).items()
    }
    return Abbreviations(plain, contextual)


def _with_case(token: str, expansion: str) -> str:
    if len(token) > 1 and token.isupper():
        return expansion.upper()
    if token[0].isupper():
        return expansion[0].upper() + expansion[1:]
    return expansion


def expand_abbreviations(text: str) -> str:
    """Replace whole-token chat abbreviations; single letters only when written in lower case."""
    return expand_abbreviations_mapped(MappedText.of(text)).text


def expand_abbreviations_mapped(mapped: MappedText) -> MappedText:
    """``expand_abbreviations`` on a mapped text, keeping the map."""
    table = abbreviations()
    text = mapped.text
    tokens = list(_TOKEN.finditer(text))
    edits: list[tuple[int, int, str]] = []
    for i, match in enumerate(tokens):
        token = match.group()
        if len(token) == 1 and not token.islower():
            continue
        previous = tokens[i - 1].group().lower() if i else ""
        following = tokens[i + 1].group().lower() if i + 1 < len(tokens) else ""
        expansion = table.expand(token.lower(), previous, following)
        if expansion is not None:
            edits.append((match.start(), match.end(), _with_case(token, expansion)))
    return mapped.replace(edits) if edits else mapped


def fold_whitespace(text: str) -> str:
    """NFC, invisible and control characters removed, spaces folded, one newline between lines."""
    return fold_whitespace_mapped(MappedText.of(text)).text


def fold_whitespace_mapped(mapped: MappedText) -> MappedText:
    """``fold_whitespace`` on a mapped text, keeping the map."""
    composed = unicodedata.normalize("NFC", mapped.text)
    if composed != mapped.text:
        by_piece = mapped.sub(_COMPOSED, lambda m: unicodedata.normalize("NFC", m.group()))
        mapped = by_piece if by_piece.text == composed else mapped.rewrite(composed)
    mapped = mapped.sub(_INVISIBLE_CHARS, "").sub(_RETURNS, "\n").sub(_CONTROL, "")
    mapped = mapped.sub(_HSPACE, " ").sub(_BLANK_LINES, "\n")
    text = mapped.text
    head = len(text) - len(text.lstrip())
    tail = len(text.rstrip())
    edits = [(0, head, "")] if head else []
    edits += [(tail, len(text), "")] if tail < len(text) and tail >= head else []
    return mapped.replace(edits) if edits else mapped


def normalize_text(text: str, language: str | None = "vi") -> str:
    """Normalised text: NFC and whitespace always; for Vietnamese also tone placement,
    repeated letters and chat abbreviations. Diacritics are not restored here."""
    return normalize_mapped(text, language).text


def normalize_mapped(text: str, language: str | None = "vi") -> MappedText:
    """``normalize_text`` with, for each character, where it came from in ``text``."""
    mapped = fold_whitespace_mapped(MappedText.of(text))
    vietnamese = language == "vi"

    def fix(match: re.Match[str]) -> str:
        word = squeeze_repeats(match.group(), vietnamese=vietnamese)
        return place_tone(word) if vietnamese else word

    mapped = mapped.sub(_WORD, fix)
    return expand_abbreviations_mapped(mapped) if vietnamese else mapped
