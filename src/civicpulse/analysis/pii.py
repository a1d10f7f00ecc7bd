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

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult
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
from civicpulse.annotations import FoundPii, LanguageOut, NormalizeOut, PiiOut, side_fields
from civicpulse.annotations import PiiSpan as Span
from civicpulse.settings import Settings
from civicpulse.textkit.offsets import OffsetMap
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
    model_text: str | None = None

    def as_output(self) -> PiiOut:
        """The stage's output: redacted text and spans; the values themselves in ``found`` (private:
        ``runtime`` saves them encrypted and never writes them into annotations)."""
        return PiiOut(
            redacted_text=self.redacted_text,
            model_text=self.model_text if self.model_text != self.redacted_text else None,
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
    form
    for w in _words(
        "đường phố phường xã quận huyện tỉnh tp thị trấn ấp thôn xóm làng bản cầu chợ trường viện "
        "sông hồ núi lộ khu chung cư nhà bến ga bay sở bộ ban ubnd hđnd đảo vịnh đình chùa đền thờ hóa hoá "
        "tâm ty thpt thcs học non kcn kdc ngõ hẻm kiệt ngách quê street road district city province"
    )
    for form in (w, fold(w))
)
_BUSINESS_WORDS = frozenset(
    form
    for w in _words(
        "quán tiệm hàng hiệu hãng ty chuỗi thị siêu nhãn phê cafe coffee bánh sữa trà mắm phở bún cơm lẩu "
        "bia kem gà app dụng brand shop store restaurant"
    )
    for form in (w, fold(w))
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
    r"|bác|bac|em|cháu|chau|cậu|cau|dì|mợ|thím|dượng|cụ|bé|thầy|thay|bạn|(?:chào|chao|cảm ơn|cam on|gửi|gui)"
    r" ban|my name is|name|mr|mrs|ms|dr|miss|je m['’]appelle|mon nom est|monsieur|madame|mademoiselle|mme"
    r"|mlle|mein name ist|ich heiße|ich heisse|herr|frau|me llamo|mi nombre es|señor|señora|señorita|sr|sra"
    r"|srta|mi chiamo|il mio nome è|signor|signora|meu nome é|me chamo|senhor|senhora)"
    r"\.?(?!\w)[ \t]*[:\-–]?[ \t]*"
)
_ROLE = re.compile(
    r"(?<!\w)(?:(?i:sinh viên|học sinh|học viên|giáo viên|giảng viên|công nhân|bệnh nhân|người bệnh|cán bộ"
    r"|nhân viên|kỹ sư|kĩ sư|điều dưỡng|tài xế|lái xe|nông dân|ngư dân|tiểu thương|thương binh|liệt sĩ"
    r"|cựu chiến binh|chiến sĩ|bộ đội|nạn nhân|đối tượng|người lao động|chủ hộ|chủ nhà|chủ quán|thí sinh"
    r"|sinh vien|hoc sinh|hoc vien|giao vien|giang vien|cong nhan|benh nhan|nguoi benh|can bo|nhan vien"
    r"|ky su|dieu duong|tai xe|lai xe|nong dan|ngu dan|tieu thuong|thuong binh|liet si|cuu chien binh"
    r"|chien si|bo doi|nan nhan|doi tuong|nguoi lao dong|chu ho|chu nha|chu quan|thi sinh)"
    r"|(?P<en>(?i:student|teacher|worker|patient|nurse|driver|resident|tenant|employee|farmer|pupil)))"
    r"(?!\w)[ \t]*[:\-–]?[ \t]*"
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
    """Whether the word right before ``start`` names a kind of place (đường, phường, chợ ...); a word
    with marks counts as written ("bạn" is no "Ban", "viên" no "viện")."""
    before = text[max(0, start - 20) : start]
    previous = _WORD.findall(before)
    return bool(previous) and _in(previous[-1], _PLACE_WORDS) and before.endswith((" ", ". "))


def _persona(text: str, start: int, blocked: list[tuple[int, int]]) -> bool:
    """Whether a title at ``start`` names a brand persona: after a business word ("quán Bác Tôm",
    "cà phê Cô Ba") or a brand listed in ``pii_not_persons.txt`` ("Vinamilk Ông Thọ")."""
    before = text[max(0, start - 30) : start]
    previous = list(_WORD.finditer(before))
    if not previous or not before.endswith(" "):
        return False
    word = previous[-1]
    offset = max(0, start - 30)
    if _in(word.group(), _BUSINESS_WORDS):
        return True
    return any(s <= offset + word.start() and offset + word.end() <= e for s, e in blocked)


def _role_name(tokens: list[re.Match[str]], lex: _Lexicon, english: bool) -> int:
    """A full name after a role word: family name first, or (English) two capitalised words."""
    count = _free_name(tokens, lex)
    if count or not english:
        return count
    words = [t.group() for t in tokens[:4]]
    caps = 0
    while caps < len(words) and _is_cap(words[caps]) and not words[caps].isupper():
        caps += 1
    return caps if caps >= 2 else 0


def find_names(
    text: str, use_ner: bool = True, language: str | None = None, known: Iterable[Candidate] = ()
) -> list[Candidate]:
    """Names of private persons (see the module docstring for what stays).

    ``known`` spans (numbers, links ...) found already count as explained when deciding where NER runs.
    """
    lex = _lexicon()
    blocked = [m.span() for m in lex.not_persons.finditer(fold(text))]
    starts = {
        m.end(): m
        for m in _TRIGGER.finditer(text)
        if not _after_place(text, m.start()) and not _persona(text, m.start(), blocked)
    }
    roles = {m.end(): m.group("en") is not None for m in _ROLE.finditer(text)}
    found: list[Candidate] = []
    for run in _runs(text):
        i = 0
        while i < len(run):
            tokens = run[i:]
            titled = tokens[0].start() in starts
            if not titled and len(tokens) > 1 and tokens[1].start() in starts:
                i += 1  # "Chu Ba": a title that is also a family name reads as the title
                continue
            if titled:
                count = _name_after(tokens, lex)
            elif tokens[0].start() in roles:
                count, titled = _role_name(tokens, lex, roles[tokens[0].start()]), True
            else:
                count = _free_name(tokens, lex)
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


def _detect(text: str, language: str | None, use_ner: bool) -> list[Candidate]:
    candidates = [c for finder in _FINDERS for c in finder(text)]
    chosen = _resolve(candidates)
    names = find_names(text, use_ner=use_ner, language=language, known=chosen)
    return _resolve([*chosen, *names])


def _replace(text: str, spans: Iterable[tuple[str, int, int]]) -> str:
    parts, last = [], 0
    for kind, start, end in spans:
        parts.append(text[last:start])
        parts.append(placeholder(kind))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _result(text: str, chosen: list[Candidate], model_text: str | None = None) -> RedactionResult:
    spans = tuple(PiiSpan(c.type, c.start, c.end, text[c.start : c.end]) for c in chosen)
    redacted = _replace(text, ((s.type, s.start, s.end) for s in spans))
    return RedactionResult(text=text, redacted_text=redacted, spans=spans, model_text=model_text)


def redact(text: str, language: str | None = None, *, use_ner: bool = True) -> RedactionResult:
    """Replace personal data in ``text`` with typed placeholders such as ``[PHONE]``.

    Args:
        text: the text to redact, as people read it.
        language: ISO 639-1 code when known; NER runs only on Vietnamese (or unknown) text.
        use_ner: run underthesea's NER on sentences the name patterns cannot explain.

    Returns:
        The redacted text and the spans, with offsets on ``text``.
    """
    return _result(text, _detect(text, language, use_ner))


def redact_with_normalized(
    text: str, normalized: str, mapping: OffsetMap, language: str | None = None, *, use_ner: bool = True
) -> RedactionResult:
    """Redact ``text`` as written, with what is found on it and on its normalised form.

    Spans found on ``normalized`` (marks restored, repeats squeezed, abbreviations expanded) map
    back through ``mapping``; the result keeps the citizen's spelling, and ``model_text`` is the
    normalised text with the same placeholders, for the models.
    """
    on_normalized = [
        Candidate(c.type, *mapping.to_source(c.start, c.end), c.priority)
        for c in _detect(normalized, language, use_ner)
    ]
    chosen = _resolve([*on_normalized, *_detect(text, language, use_ner=False)])
    model_spans: list[tuple[str, int, int]] = []
    for cand in chosen:
        start, end = mapping.from_source(cand.start, cand.end)
        if model_spans and start < model_spans[-1][2]:
            kind, first, last = model_spans.pop()
            model_spans.append((kind, first, max(last, end)))
        elif end > start:
            model_spans.append((cand.type, start, end))
    return _result(text, chosen, _replace(normalized, model_spans))


def _side_value(key: str, value: str) -> str:
    """A side field as the patterns read it: file names and ids join words with ``_`` or ``-``."""
    return value if key == "locality" else value.replace("_", " ").replace("-", " ")


class PiiStage(ShipsConfigOnly):
    """Redacts personal data before any analysis or display, in the text as written and in the other
    free-text fields (locality, source id, attachment names); the normalised text, when a
    ``normalize`` stage ran, is searched too and gives the models' text."""

    name: ClassVar[str] = "pii"
    output: ClassVar[type[PiiOut]] = PiiOut

    def __init__(self, settings: Settings, use_ner: bool = True) -> None:
        self.max_chars = settings.max_text_chars
        self.use_ner = use_ner

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Redact every item of the batch; a failing item is reported, the others go on."""
        result = StageResult()
        for item in items:
            try:
                result.outputs[item.id] = self._redact(item)
            except Exception as exc:  # failures are data: one bad item must not sink the batch
                result.failures[item.id] = f"{type(exc).__name__}: {exc}"
        return result

    def _redact(self, item: AnalysisItem) -> PiiOut:
        detected = item.output(LanguageOut)
        language = detected.language if detected is not None else item.language_hint
        normalized = item.output(NormalizeOut)
        if normalized is not None and normalized.text is not None and normalized.source is not None:
            blocks = tuple(tuple(b) for b in normalized.source)
            mapping = OffsetMap(blocks, len(normalized.text), len(item.text))  # type: ignore[arg-type]
            found = redact_with_normalized(
                item.text, normalized.text, mapping, language, use_ner=self.use_ner
            )
        else:  # no map back to the text as written: redact that text itself
            found = redact(item.text, language, use_ner=self.use_ner)
        output = found.as_output()
        for key, value in self._side_fields(item):
            side = redact(_side_value(key, value), language, use_ner=self.use_ner)
            output.fields[key] = _replace(value, ((s.type, s.start, s.end) for s in side.spans))
            output.found += [
                FoundPii(type=s.type, start=s.start, end=s.end, text=value[s.start : s.end], field=key)
                for s in side.spans
            ]
        return output

    @staticmethod
    def _side_fields(item: AnalysisItem) -> list[tuple[str, str]]:
        fields = side_fields(item.locality, item.source_id, item.attachment_names)
        return [(key, value) for key, value in fields.items() if value and value.strip()]
