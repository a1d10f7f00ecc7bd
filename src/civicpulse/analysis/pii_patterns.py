"""Patterns for personal data written as numbers, links, plates, dates of birth and house addresses.

Every finder takes the text and returns ``Candidate`` spans; ``civicpulse.analysis.pii`` resolves
overlaps and adds person names. Regular expressions are compiled once, at import.

Decisions (see also the module docstring of ``pii``):
- 1800/1900 numbers and short emergency numbers (113, 114, 115, 1022) are public service lines: kept.
- Money (``5.000.000 đồng``, ``350000000 đồng``), dates, decree numbers (``123/2024/NĐ-CP``), road
  numbers (``Quốc lộ 1A``, ``đường 3/2``) and land-parcel numbers (``thửa đất số 123``) are kept.
- An address is redacted at house level only: house number, alley (ngõ, ngách, hẻm, kiệt); the
  street, ward/commune, district and province names stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span of personal data found by one pattern; higher ``priority`` wins an overlap."""

    type: str
    start: int
    end: int
    priority: int


PRIORITY = {
    "URL_PROFILE": 9, "EMAIL": 9, "ACCOUNT": 8, "INSURANCE": 8, "DATE_OF_BIRTH": 7, "PLATE": 6,
    "ID": 5, "PHONE": 5, "ADDRESS": 4, "PERSON": 3,
}  # fmt: skip


def _cand(kind: str, start: int, end: int, bonus: int = 0) -> Candidate:
    return Candidate(kind, start, end, PRIORITY[kind] + bonus)


_NUM_END = r"(?![\w/@]|[.,-]\d)"

# ------------------------------------------------------------------------------------------- phones
_PHONE = re.compile(
    r"(?<![\w+/.,@-])(?:\(\+?\d{1,4}\)\s?|\+\s?)?\d(?:(?:[ .]|\s?-\s?|\)\s?|\s?\()?\d){6,16}" + _NUM_END
)
_PUBLIC_PREFIXES = ("1800", "1900")
_OLD_MOBILE = ("012", "016", "0186", "0188", "0199")
"""Eleven-digit mobile numbers of the numbering used before 2018 (0169 ..., 0120 ...)."""


def _phone_ok(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if digits.startswith(_PUBLIC_PREFIXES):
        return False
    international = raw.startswith(("+", "(+"))
    if digits.startswith("84") and (international or len(digits) in (11, 12)):
        rest = digits[2:]
        if len(rest) == 10 and ("0" + rest).startswith(_OLD_MOBILE):
            return True
        return (len(rest) == 9 and rest[0] in "35789") or (len(rest) == 10 and rest[0] == "2")
    if international:
        return 8 <= len(digits) <= 15
    if raw.startswith("(0") or digits.startswith("0"):
        if len(digits) == 11 and digits.startswith(_OLD_MOBILE):
            return True
        return (len(digits) == 10 and digits[1] in "235789") or (len(digits) == 11 and digits[1] == "2")
    # North American writing without country code: (555) 123-4567, 555-123-4567, 555.123.4567
    return len(digits) == 10 and bool(re.fullmatch(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}", raw))


_DIGIT_WORDS = {
    "không": "0", "khong": "0", "linh": "0", "zero": "0", "oh": "0",
    "một": "1", "mot": "1", "mốt": "1", "one": "1",
    "hai": "2", "two": "2",
    "ba": "3", "three": "3",
    "bốn": "4", "bon": "4", "tư": "4", "four": "4",
    "năm": "5", "nam": "5", "lăm": "5", "lam": "5", "five": "5",
    "sáu": "6", "sau": "6", "six": "6",
    "bảy": "7", "bẩy": "7", "bay": "7", "seven": "7",
    "tám": "8", "tam": "8", "eight": "8",
    "chín": "9", "chin": "9", "nine": "9",
}  # fmt: skip
_SPELLED_TOKEN = rf"(?:\d+|(?i:{'|'.join(sorted(_DIGIT_WORDS, key=len, reverse=True))}))"
_SPELLED = re.compile(rf"(?<!\w){_SPELLED_TOKEN}(?:[\s,.\-–]{{1,3}}{_SPELLED_TOKEN})+(?!\w)")
_JOINED = re.compile(
    r"(?<![\w.,/@$+-])(\d{12}|\d{9})\s*[/\-–|;]\s*(\(?\+?\d[\d .()-]{8,16}\d)(?![\w/@]|[.,-]\d)"
)


def _spelled_phones(text: str) -> list[Candidate]:
    """Numbers written out in words, whole or in part ("không chín bảy bảy ...", "zero nine ...")."""
    found: list[Candidate] = []
    if sum(1 for word in text.lower().split() if word.strip(",.-") in _DIGIT_WORDS) < 3:
        return found
    for match in _SPELLED.finditer(text):
        tokens = list(re.finditer(_SPELLED_TOKEN, match.group()))
        values = [t.group() if t.group().isdigit() else _DIGIT_WORDS[t.group().lower()] for t in tokens]
        i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + 16), i + 2, -1):
                words = sum(1 for t in tokens[i:j] if not t.group().isdigit())
                if words >= 3 and _phone_ok("".join(values[i:j])):
                    start, end = match.start() + tokens[i].start(), match.start() + tokens[j - 1].end()
                    found.append(_cand("PHONE", start, end))
                    i = j - 1
                    break
            i += 1
    return found


def _joined_numbers(text: str) -> list[Candidate]:
    """An identity number and a phone number joined by punctuation ("0123.../0977...")."""
    found = []
    for match in _JOINED.finditer(text):
        if _phone_ok(match.group(2)):
            found.append(_cand("ID", match.start(1), match.end(1)))
            found.append(_cand("PHONE", match.start(2), match.end(2)))
    return found


def find_phones(text: str) -> list[Candidate]:
    """Vietnamese mobile and landline numbers in their usual writings, and international numbers."""
    found = _spelled_phones(text) + _joined_numbers(text)
    for match in _PHONE.finditer(text):
        raw = match.group()
        if _phone_ok(raw):
            found.append(_cand("PHONE", match.start(), match.end()))
            continue
        # two numbers separated by a space ("0912345678 0987654321"): try runs of the chunks
        chunks = [(m.start(), m.end()) for m in re.finditer(r"\S+", raw)]
        i = 0
        while i < len(chunks):
            for j in range(len(chunks), i, -1):
                start, end = chunks[i][0], chunks[j - 1][1]
                if _phone_ok(raw[start:end]):
                    found.append(_cand("PHONE", match.start() + start, match.start() + end))
                    i = j - 1
                    break
            i += 1
    return found


# ------------------------------------------------------------------------- identity and other numbers
_GAP = (
    r"(?:[\s:.,()#\-–]|số|so|là|la|của|cua|tôi|toi|mình|minh|nhận|nhan|hỗ trợ|ho tro|ngân hàng|ngan hang"
    r"|tại|tai|thẻ|the|mã|ma|mới|moi|cũ|cu|number|no\.?|is|[A-Z][A-Za-z]*[Bb]ank|BIDV|VCB|ACB|MB|TCB"
    r"|Agribank|Momo|MoMo)*"
)
_ACCOUNT = re.compile(
    r"(?:(?i:số tài khoản|so tai khoan|tài khoản|tai khoan|chủ tk|stk|số tk|so tk|account(?: number)?"
    r"|acct|a/c|iban)|\bTK)\b" + _GAP + r"(?<![\w.,-])(\d(?:[ -]?\d){7,18})" + _NUM_END
)
_INSURANCE_CODE = re.compile(r"(?<!\w)[A-Z]{2}\s?\d(?:\s?\d){12}(?!\w)")
_INSURANCE_NUMBER = re.compile(
    r"(?i:bhxh|bhyt|bảo hiểm xã hội|bao hiem xa hoi|bảo hiểm y tế|bao hiem y te)\b" + _GAP
    + r"(?<![\w.,-])(\d{10})" + _NUM_END
)  # fmt: skip
_TAX = re.compile(
    r"(?i:mã số thuế|ma so thue|\bmst|tax id)\b" + _GAP + r"(?<![\w.,-])(\d{10}(?:-\d{3})?)" + _NUM_END
)
_ID_NUMBER = re.compile(r"(?<![\w.,/@$-])(\d{12}|\d{3} \d{3} \d{3} \d{3}|\d{9})" + _NUM_END)
_PASSPORT = re.compile(r"(?<![\w./-])[A-Z]\d{7}(?![\w/])")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_UNIT_AFTER = re.compile(
    r"\s*(?:đ\b|đồng|dong|vnđ|vnd|triệu|trieu|nghìn|nghin|ngàn|ngan|tỷ|ty\b|k\b|usd|\$|%|m2|m²|km|người"
    r"|nguoi|hộ\b|lượt|luot)",
    re.IGNORECASE,
)


def find_numbers(text: str) -> list[Candidate]:
    """Identity (CCCD, CMND, passport, SSN, tax), health-insurance and bank-account numbers."""
    found = []
    for match in _ACCOUNT.finditer(text):
        found.append(_cand("ACCOUNT", match.start(1), match.end(1)))
    for match in _INSURANCE_CODE.finditer(text):
        found.append(_cand("INSURANCE", match.start(), match.end()))
    for match in _INSURANCE_NUMBER.finditer(text):
        found.append(_cand("INSURANCE", match.start(1), match.end(1)))
    for match in _TAX.finditer(text):
        found.append(_cand("ID", match.start(1), match.end(1), bonus=1))
    for match in _ID_NUMBER.finditer(text):
        if not _UNIT_AFTER.match(text, match.end()):
            found.append(_cand("ID", match.start(1), match.end(1)))
    for pattern in (_PASSPORT, _SSN):
        found.extend(_cand("ID", m.start(), m.end()) for m in pattern.finditer(text))
    return found


# ------------------------------------------------------------------------------- e-mails and profiles
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PROFILE = re.compile(
    r"(?<![\w.@/])(?:https?://)?(?:(?:www|m|web|vi-vn|mobile)\.)?"
    r"(?:facebook\.com|fb\.com|fb\.me|zalo\.me|tiktok\.com/@|instagram\.com|youtube\.com/@|twitter\.com"
    r"|x\.com|threads\.net/@|linkedin\.com/in)/?[^\s,;)\]>\"']+",
    re.IGNORECASE,
)


_AT = r"(?:\s*[\[(<{]\s*(?:at|a còng|a cong)\s*[\])>}]\s*|\s+(?i:at|a còng|a cong|a móc|a moc|acong)\s+)"
_DOT = r"(?:\s*[\[(<{]\s*(?:dot|chấm|cham)\s*[\])>}]\s*|\s+(?i:dot|chấm|cham)\s+|\.)"
_TLD = r"(?i:com|net|org|edu|gov|info|vn|io|me|co|uk|fr|de|us|jp|kr|au|ca)"
_EMAIL_SPOKEN = re.compile(
    rf"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*?{_DOT}{_TLD}"
    rf"(?:{_DOT}{_TLD})?(?![\w@])"
)


def find_links(text: str) -> list[Candidate]:
    """E-mail addresses (also spelt out: "ten at gmail dot com", "a còng", "chấm") and
    social-media profile links."""
    found = [_cand("EMAIL", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [_cand("EMAIL", m.start(), m.end()) for m in _EMAIL_SPOKEN.finditer(text)]
    for match in _PROFILE.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in ".!?:":
            end -= 1
        found.append(_cand("URL_PROFILE", match.start(), end))
    return found


# ------------------------------------------------------------------------------------------- plates
_PLATE = re.compile(
    r"(?<![\w./-])\d{2}(?:\s?-\s?)?(?:[A-Z]{1,2}\d?|[A-Z]{2}|[a-z]\d?(?=-))"
    r"(?:\s?[-.]\s?|\s)?(?:\d{3}\.\d{2}|\d{5}|\d{4})(?![\w/]|[.,]\d)"
)


def find_plates(text: str) -> list[Candidate]:
    """Vietnamese licence plates: 51F-123.45, 29A-12345, 30E 123.45, 59-X1 234.56, 51F12345."""
    return [_cand("PLATE", m.start(), m.end()) for m in _PLATE.finditer(text)]


# ------------------------------------------------------------------------------------ dates of birth
_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = (
    r"(\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|(?:19|20)\d{2}[/-]\d{1,2}[/-]\d{1,2}"
    r"|\d{1,2}\s+(?:tháng|thang)\s+\d{1,2}\s*,?\s*(?:năm|nam)\s+(?:19|20)\d{2}"
    rf"|\d{{1,2}}\s+{_MONTHS}\s+(?:19|20)\d{{2}}|{_MONTHS}\s+\d{{1,2}},?\s+(?:19|20)\d{{2}})"
)
_DOB = re.compile(
    r"(?i:sinh ngày|sinh ngay|ngày sinh|ngay sinh|ngày tháng năm sinh|ngay thang nam sinh|sinh|"
    r"d\.?o\.?b\.?|date of birth|born on|born|birthday|birth date)(?:\s*(?:ngày|ngay))?\s*[:.]?\s*"
    + _DATE
)  # fmt: skip
_YOB = re.compile(
    r"(?i:sinh năm|năm sinh|sinh nam|nam sinh|born in|year of birth)\s*[:.]?\s*((?:19|20)\d{2})(?!\d)"
)


def find_birth_dates(text: str) -> list[Candidate]:
    """Dates (and years) of birth after the words that announce them; other dates stay."""
    found = [_cand("DATE_OF_BIRTH", m.start(1), m.end(1)) for m in _DOB.finditer(text)]
    found += [_cand("DATE_OF_BIRTH", m.start(1), m.end(1)) for m in _YOB.finditer(text)]
    return found


# ---------------------------------------------------------------------------------- house addresses
_HOUSE = r"\d{1,4}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)*"
_ALLEY = r"(?:ngõ|ngách|hẻm|kiệt|ngo|ngach|hem|kiet)"
_NUMBERED = r"(?:số nhà|nhà số|so nha|nha so|số|so)"
_KEYED = rf"(?:{_ALLEY}(?:\s+(?:số|so))?\s*{_HOUSE}|{_NUMBERED}\s*{_HOUSE})"
_ADDRESS = re.compile(rf"(?<![\w/.,-])(?i:{_KEYED}|{_HOUSE})(?:(?:,\s*|\s+)(?i:{_KEYED}))*(?![\w/]|[.,]\d)")
_ALLEY_WORD = re.compile(rf"(?i:{_ALLEY})\b")
_HOUSE_WORD = re.compile(r"(?i:số nhà|nhà số|so nha|nha so)\b")
_STREET_NEXT = re.compile(
    r",?\s*(?i:đường|phố|duong|pho|đại lộ|dai lo|hẻm|hem|kiệt|kiet|ngõ|ngo)\b|\s+[A-ZĐ][a-zà-ỹđ]*\s+[A-ZĐ]"
)
_HOUSE_CONTEXT = re.compile(
    r"(?i:\bở|\bo|\btại|\btai|địa chỉ|dia chi|\bđc|\bdc|\bnhà|\bnha|trước|truoc|cạnh|canh|đầu|dau"
    r"|cuối|cuoi|thường trú|thuong tru|tạm trú|tam tru)[\s:,]*$"
)
_NOT_HOUSE_CONTEXT = re.compile(
    r"(?i:\b(?:đường|duong|phố|pho|quốc lộ|quoc lo|tỉnh lộ|tinh lo|ql|tl|đại lộ|ngày|ngay|tháng|thang|lúc|luc"
    r"|thửa đất|thua dat|tờ bản đồ|to ban do|tổ|to|hộ|ho|lô|lo|phòng|phong|lớp|lop|km))\s*$"
    r"|(?i:\b(?:thẻ|card))(?:\s+[^\W\d]+){0,2}\s*$|(?i:\bthe(?:\s+(?:xe|atm))?)\s*$"
)


def find_addresses(text: str) -> list[Candidate]:
    """House-level address parts: house number, alley, lane (the street and units above stay)."""
    found = []
    for match in _ADDRESS.finditer(text):
        value = match.group()
        before = text[max(0, match.start() - 24) : match.start()]
        if _NOT_HOUSE_CONTEXT.search(before):
            continue
        keyed_first = bool(re.match(rf"(?i:{_KEYED})", value))
        many_units = bool(re.search(r"(?:,\s*|\s+)\S", value))
        house_context = bool(_HOUSE_CONTEXT.search(before))
        street_next = bool(_STREET_NEXT.match(text, match.end()))
        if _ALLEY_WORD.match(value) or _HOUSE_WORD.match(value) or (many_units and _ALLEY_WORD.search(value)):
            ok = True
        elif keyed_first:  # "số 12": only where a street follows or a house is spoken of
            ok = street_next or house_context
        elif "/" in value:  # "12/3", "45/7/2": a house number unless it reads as a date
            deep = value.count("/") >= 2
            ok = (deep or house_context or street_next or many_units) and not _looks_like_date(value)
        else:  # a bare number: "ở 25 Lý Thường Kiệt"
            ok = house_context and street_next
        if ok:
            found.append(_cand("ADDRESS", match.start(), match.end()))
    return found


def _looks_like_date(value: str) -> bool:
    parts = value.split("/")
    if not all(p.isdigit() for p in parts):
        return False
    if len(parts[-1]) == 4:
        return True
    return len(parts) == 2 and 1 <= int(parts[0]) <= 31 and 1 <= int(parts[1]) <= 12 and not value.isdigit()
