"""PII redaction: typed placeholders for personal data, as a function and as the ``pii`` stage.

``redact(text)`` finds phones, identity, insurance and account numbers, e-mails, profile links,
licence plates, dates of birth, house-level addresses and names of private persons, and returns the
redacted text with the spans (offsets on the input text). Numbers, links, plates, dates and
addresses come from ``pii_patterns``; names are found here: after kinship titles and introductions
("anh", "chị", "bà", "tôi là", "họ tên" ...), as family name + given names with or without
diacritics, and by underthesea's NER on the few sentences where a capitalised name-like sequence is
left unexplained.

Decisions:
- Names right after a public office ("Chủ tịch UBND ...", "Giám đốc Sở ...") are officials acting in
  office and stay; every other person is redacted, analysts included in nothing but the placeholder.
- Streets, wards and places named after people ("đường Nguyễn Trãi", "phường Võ Thị Sáu",
  "TP. Hồ Chí Minh") stay: a name after a place word, or listed in ``data/pii_not_persons.txt``.
- A single lower-case given name after a title ("chi mai") is too ambiguous without diacritics and
  stays; lower-case full names ("nguyen van an") are redacted.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, normalized_text
from civicpulse.analysis.pii_patterns import (
    PRIORITY,
    Candidate,
    find_addresses,
    find_birth_dates,
    find_links,
    find_numbers,
    find_phones,
    find_plates,
)
from civicpulse.annotations import FoundPii, LanguageOut, PiiOut
from civicpulse.annotations import PiiSpan as Span
from civicpulse.settings import Settings
from civicpulse.textkit.placeholders import placeholder

PII_TYPES = (
    "PHONE", "ID", "INSURANCE", "ACCOUNT", "EMAIL", "URL_PROFILE", "PLATE", "ADDRESS", "PERSON",
    "DATE_OF_BIRTH",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One piece of personal data: its type, offsets on the input text, and the original value."""

    type: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The input text, its redacted form and the spans that were replaced."""

    text: str
    redacted_text: str
    spans: tuple[PiiSpan, ...]

    def as_output(self) -> PiiOut:
        """The stage's output: redacted text and spans; the values themselves in ``found`` (private:
        ``runtime`` saves them encrypted and never writes them into annotations)."""
        return PiiOut(
            redacted_text=self.redacted_text,
            spans=[Span(type=s.type, start=s.start, end=s.end) for s in self.spans],
            found=[FoundPii(type=s.type, start=s.start, end=s.end, text=s.text) for s in self.spans],
        )


# ------------------------------------------------------------------------------------------ lexicon
def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics, one character for one (offsets stay valid)."""
    out = []
    for ch in text.lower():
        out.append("d" if ch == "đ" else unicodedata.normalize("NFD", ch)[0])
    return "".join(out)


def _data_lines(name: str) -> list[str]:
    text = resources.files("civicpulse.data").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class _Lexicon:
    family: frozenset[str]
    syllables: frozenset[str]
    stop: frozenset[str]
    not_persons: re.Pattern[str]


@cache
def _lexicon() -> _Lexicon:
    family = {w.lower() for w in _data_lines("vi_names_family.txt")}
    syllables = {w.lower() for line in _data_lines("vi_names_syllables.txt") for w in line.split()}
    phrases = sorted({fold(p) for p in _data_lines("pii_not_persons.txt")}, key=len, reverse=True)
    not_persons = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b")
    names = syllables | family | {fold(w) for w in syllables | family}
    # a stop word's unmarked form counts only where it is not also a name ("nam": năm / Nam)
    stop = set(_STOP_WORDS) | {fold(w) for w in _STOP_WORDS if fold(w) not in names}
    return _Lexicon(
        family=frozenset(family | {fold(w) for w in family}),
        syllables=frozenset(names),
        stop=frozenset(stop),
        not_persons=not_persons,
    )


def _words(text: str) -> list[str]:
    return text.split()


_MIDDLE = frozenset(
    _words(
        "văn thị đức minh hữu ngọc quang thanh xuân hồng kim thu công đình quốc bảo gia trọng thế mạnh "
        "khánh hoàng anh tuấn duy tiến phương thúy bích mỹ hải van thi duc huu ngoc xuan hong cong dinh "
        "quoc bao trong the manh khanh hoang tuan tien phuong thuy bich my hai"
    )
)
_STOP_WORDS = _words(
    "tôi chủ phó giám bí trưởng cán cảnh công sở ban phòng ủy ubnd hđnd tổ khu ấp thôn xã phường quận "
    "huyện tỉnh thành đội đảng nhà trường bệnh tòa hội viện cục bộ em anh chị ông bà cô chú bác cháu con "
    "mẹ bố vợ chồng người kính xin đề theo số ngày tháng năm điện email địa hẻm ngõ đường phố xe biển thẻ "
    "mã hộ tài liên vui gia có ai lúc giá phí tiền trang lịch cấp luật nghị quyết thông kế hiến "
    "the my mr mrs ms"
)
_THI_VAN = frozenset({"văn", "thị", "van", "thi"})
_PLACE_WORDS = frozenset(
    fold(w)
    for w in _words(
        "đường phố phường xã quận huyện tỉnh tp thị trấn ấp thôn xóm làng bản cầu chợ trường viện "
        "sông hồ núi lộ khu chung cư nhà bến ga bay sở bộ ban ubnd hđnd đảo vịnh đình chùa đền thờ hóa hoá "
        "tâm ty thpt thcs học non kcn kdc ngõ hẻm kiệt ngách quê street road district city province"
    )
)
_OFFICIAL = re.compile(
    r"(?i:chủ tịch|chu tich|bí thư|bi thu|giám đốc|giam doc|bộ trưởng|bo truong|thứ trưởng|thu truong"
    r"|thủ tướng|thu tuong|chánh văn phòng|chanh van phong|chánh thanh tra|chanh thanh tra"
    r"|trưởng phòng|truong phong|đại biểu quốc hội|dai bieu quoc hoi|mayor|governor|minister)"
)
_TRIGGER = re.compile(
    r"(?<!\w)(?i:tôi là|toi la|tôi tên là|toi ten la|tôi tên|toi ten|tên tôi là|ten toi la|tên là|ten la"
    r"|họ và tên|ho va ten|họ tên|ho ten|xưng tên|xung ten|xưng là|xung la|người gửi|nguoi gui|người tên"
    r"|nguoi ten|chủ tk|chu tk|chủ tài khoản|chu tai khoan|(?:con|vợ|chồng|mẹ|bố|cha|em|cháu)(?: tôi)? "
    r"(?:là|tên)|(?:con|vo|chong|me|bo|cha|em|chau)(?: toi)? (?:la|ten)|em là|em la|mình là|minh la"
    r"|cô giáo|thầy giáo|bác sĩ|bac si|y tá|đồng chí|dong chi|anh|chị|chi|ông|ong|bà|ba|cô|co|chú|chu"
    r"|bác|bac|em|cháu|chau|cậu|cau|dì|mợ|thím|dượng|cụ|bé|thầy|thay|my name is|name|mr|mrs|ms|dr|miss)"
    r"\.?(?!\w)[ \t]*[:\-–]?[ \t]*"
)
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?![\s\n]|$))+[.!?]*")


def _is_cap(token: str) -> bool:
    return token[0].isupper() and (len(token) == 1 or token[1:].islower() or token.isupper())


def _in(token: str, words: frozenset[str]) -> bool:
    low = token.lower()
    return low in words if fold(low) != low else fold(low) in words


# --------------------------------------------------------------------------------------- finding names
def _runs(text: str) -> list[list[re.Match[str]]]:
    """Word tokens grouped into runs separated by single spaces only."""
    runs: list[list[re.Match[str]]] = []
    for match in _WORD.finditer(text):
        if runs and text[runs[-1][-1].end() : match.start()] == " ":
            runs[-1].append(match)
        else:
            runs.append([match])
    return runs


def _name_after(tokens: list[re.Match[str]], lex: _Lexicon) -> int:
    """How many tokens from the start form a name after a title (0 when none)."""
    first = tokens[0].group()
    if _is_cap(first) and not _in(first, lex.stop) and (not first.isupper() or _in(first, lex.family)):
        count = 1
        while count < min(len(tokens), 5) and _is_cap(tokens[count].group()):
            count += 1
        return count
    return _lower_name(tokens, lex, _MIDDLE)


def _lower_name(tokens: list[re.Match[str]], lex: _Lexicon, middle: frozenset[str]) -> int:
    """A lower-case full name: family, a middle name from ``middle``, given name(s)."""
    words = [t.group() for t in tokens[:4]]
    if len(words) < 3 or not all(w.islower() for w in words[:3]) or not _in(words[0], lex.family):
        return 0
    if not _in(words[1], middle) or not _in(words[2], lex.syllables):
        return 0
    long = len(words) == 4 and words[3].islower() and _in(words[1], _THI_VAN) and fold(words[1]) == "thi"
    return 4 if long and _in(words[3], lex.syllables) else 3


def _free_name(tokens: list[re.Match[str]], lex: _Lexicon) -> int:
    """A name with no title before it: family name first (tokens counted, 0 when none)."""
    words = [t.group() for t in tokens[:4]]
    if len(words) < 2 or not _in(words[0], lex.family):
        return 0
    if _is_cap(words[0]) and _is_cap(words[1]) and words[0].isupper() == words[1].isupper():
        count = 2
        while count < len(words) and _is_cap(words[count]):
            count += 1
        return count
    return _lower_name(tokens, lex, _THI_VAN)


def _excluded(text: str, start: int, end: int, blocked: list[tuple[int, int]], titled: bool) -> bool:
    """A place, a street, a public figure, an official in office, or a name after a house number."""
    # a titled name is blocked only where the title belongs to the place ("Bà Rịa", "Hai Bà Trưng")
    if any(s < end and start < e and (not titled or s < start) for s, e in blocked):
        return True
    sentence_start = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    window = text[max(sentence_start, start - 50) : start]
    if _OFFICIAL.search(window):
        return True
    if titled:
        return False
    if re.search(r"\d[\w/]*\s+$", text[max(0, start - 30) : start]):
        return True
    return _after_place(text, start)


def _after_place(text: str, start: int) -> bool:
    """Whether the word right before ``start`` names a kind of place (đường, phường, chợ ...)."""
    before = text[max(0, start - 20) : start]
    previous = _WORD.findall(before)
    return bool(previous) and fold(previous[-1]) in _PLACE_WORDS and before.endswith((" ", ". "))


def find_names(
    text: str, use_ner: bool = True, language: str | None = None, known: Iterable[Candidate] = ()
) -> list[Candidate]:
    """Names of private persons (see the module docstring for what stays).

    ``known`` spans (numbers, links ...) found already count as explained when deciding where NER runs.
    """
    lex = _lexicon()
    blocked = [m.span() for m in lex.not_persons.finditer(fold(text))]
    starts = {m.end(): m for m in _TRIGGER.finditer(text) if not _after_place(text, m.start())}
    found: list[Candidate] = []
    for run in _runs(text):
        i = 0
        while i < len(run):
            tokens = run[i:]
            titled = tokens[0].start() in starts
            if not titled and len(tokens) > 1 and tokens[1].start() in starts:
                i += 1  # "Chu Ba": a title that is also a family name reads as the title
                continue
            count = _name_after(tokens, lex) if titled else _free_name(tokens, lex)
            if count:
                start, end = tokens[0].start(), tokens[count - 1].end()
                if not _excluded(text, start, end, blocked, titled):
                    found.append(Candidate("PERSON", start, end, PRIORITY["PERSON"]))
                i += count
            else:
                i += 1
    if use_ner and language in (None, "vi", "und"):
        found += _ner_names(text, [*found, *known], blocked)
    return found


def _ner_names(text: str, found: list[Candidate], blocked: list[tuple[int, int]]) -> list[Candidate]:
    """underthesea NER, only on sentences with a capitalised sequence nothing else explains."""
    ner = _ner()
    if ner is None:
        return []
    extra = []
    for sentence in _SENTENCE.finditer(text):
        if not _unexplained(text, sentence, found, blocked):
            continue
        offset = sentence.start()
        pos = 0
        entity: list[tuple[int, int]] = []
        for word, *_, tag in [*ner(sentence.group()), ("", "", "", "O")]:
            at = sentence.group().find(word, pos) if word else -1
            if at >= 0:
                pos = at + len(word)
            if tag == "I-PER" and entity and at >= 0:
                entity.append((offset + at, offset + pos))
                continue
            if entity:
                start, end = entity[0][0], entity[-1][1]
                name = text[start:end]
                if len(name.split()) >= 2 and all(_is_cap(w) for w in name.split()):
                    clash = any(c.start < end and start < c.end for c in found)
                    if not clash and not _excluded(text, start, end, blocked, titled=False):
                        extra.append(Candidate("PERSON", start, end, PRIORITY["PERSON"]))
                entity = []
            if tag == "B-PER" and at >= 0:
                entity = [(offset + at, offset + pos)]
    return extra


def _unexplained(text: str, sentence: re.Match[str], found: list[Candidate], blocked: list) -> bool:
    """Whether the sentence holds two or more adjacent capitalised words that nothing explains."""
    lex = _lexicon()
    for run in _runs(sentence.group()):
        seq: list[tuple[int, int]] = []
        for token in [*run, None]:
            if token is not None:
                start, end = sentence.start() + token.start(), sentence.start() + token.end()
                word = token.group()
                covered = any(c.start <= start and end <= c.end for c in found)
                if _is_cap(word) and not word.isupper() and not covered and not _in(word, lex.stop):
                    seq.append((start, end))
                    continue
            if len(seq) >= 2 and not _excluded(text, seq[0][0], seq[-1][1], blocked, titled=False):
                return True
            seq = []
    return False


@cache
def _ner() -> Callable[[str], list[tuple[str, ...]]] | None:
    try:
        from underthesea import ner
    except ImportError:  # optional: names are still found by the patterns
        return None
    lock = threading.Lock()  # worker threads share one stage; the tagger is not known to be thread-safe

    def locked_ner(sentence: str) -> list[tuple[str, ...]]:
        with lock:
            return ner(sentence)

    return locked_ner


# ---------------------------------------------------------------------------------------- redaction
_FINDERS = (find_links, find_numbers, find_phones, find_plates, find_birth_dates, find_addresses)


def _resolve(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the strongest non-overlapping spans: priority first, then length, then position."""
    chosen: list[Candidate] = []
    for cand in sorted(candidates, key=lambda c: (-c.priority, c.start - c.end, c.start)):
        if all(cand.end <= c.start or c.end <= cand.start for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)


def redact(text: str, language: str | None = None, *, use_ner: bool = True) -> RedactionResult:
    """Replace personal data in ``text`` with typed placeholders such as ``[PHONE]``.

    Args:
        text: the text to redact (normalised text where a ``normalize`` stage ran).
        language: ISO 639-1 code when known; NER runs only on Vietnamese (or unknown) text.
        use_ner: run underthesea's NER on sentences the name patterns cannot explain.

    Returns:
        The redacted text and the spans, with offsets on ``text``.
    """
    candidates = [c for finder in _FINDERS for c in finder(text)]
    chosen = _resolve(candidates)
    names = find_names(text, use_ner=use_ner, language=language, known=chosen)
    chosen = _resolve([*chosen, *names])
    spans = tuple(PiiSpan(c.type, c.start, c.end, text[c.start : c.end]) for c in chosen)
    parts, last = [], 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(placeholder(span.type))
        last = span.end
    parts.append(text[last:])
    return RedactionResult(text=text, redacted_text="".join(parts), spans=spans)


class PiiStage(ShipsConfigOnly):
    """Redacts personal data before any analysis or display; reads the normalised text when present."""

    name: ClassVar[str] = "pii"
    output: ClassVar[type[PiiOut]] = PiiOut

    def __init__(self, settings: Settings, use_ner: bool = True) -> None:
        self.max_chars = settings.max_text_chars
        self.use_ner = use_ner

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Redact every item of the batch; a failing item is reported, the others go on."""
        result = StageResult()
        for item in items:
            text, detected = normalized_text(item), item.output(LanguageOut)
            language = detected.language if detected is not None else item.language_hint
            try:
                result.outputs[item.id] = redact(text, language, use_ner=self.use_ner).as_output()
            except Exception as exc:  # failures are data: one bad item must not sink the batch
                result.failures[item.id] = f"{type(exc).__name__}: {exc}"
        return result
