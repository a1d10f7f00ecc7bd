"""Builds bench/data/pii_gold_issue10.jsonl: held-out cases of the kinds issue 10 found missed or
over-redacted, written after the fixes were designed (other names, numbers and wordings than the
unit tests), with a fixed seed like ``pii_gold_build``.

Kinds (``kind`` of each record): names after a role word, names in French/German/Spanish/Italian
sentences, phones written in words, spelt-out e-mails, old 11-digit mobiles, identity numbers joined
to a phone, names after "bạn"; and sentences that must stay as they are: brand personas, continents,
brands, card prefixes. About a third of the Vietnamese sentences lose their diacritics.

Run: ``python bench/pii_gold_issue10.py`` (rewrites the file).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from pii_gold_build import _digits, render_with, strip_marks  # type: ignore[import-not-found]

SEED = 20261010
PER_TEMPLATE = 5
OUT = Path(__file__).parent / "data" / "pii_gold_issue10.jsonl"

SLOT_TYPE = {
    "NAME": "PERSON", "EU_NAME": "PERSON", "EN_NAME": "PERSON", "GIVEN2": "PERSON",
    "SPELLED_VI": "PHONE", "SPELLED_EN": "PHONE", "OLD_MOBILE": "PHONE", "MOBILE": "PHONE",
    "SPOKEN_EMAIL": "EMAIL", "CCCD": "ID",
}  # fmt: skip

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "role name": [
        ("vi", "Học sinh {NAME} lớp 8 bị bạn đánh ở cổng trường, nhà trường chưa xử lý."),
        ("vi", "Công nhân {NAME} làm ở khu công nghiệp bị chậm lương ba tháng."),
        ("vi", "Nhân viên {NAME} ở bộ phận một cửa hẹn tôi quay lại nhiều lần."),
        ("vi", "Người bệnh {NAME} nằm hành lang vì thiếu giường."),
        ("en", "The tenant {EN_NAME} has not had hot water since Friday."),
    ],
    "other European language": [
        ("fr", "Bonjour, je m'appelle {EU_NAME}, la rue est inondée depuis hier."),
        ("de", "Guten Tag, ich heiße {EU_NAME} und die Straßenlaterne ist kaputt."),
        ("es", "Buenos días, mi nombre es {EU_NAME}; el contenedor está lleno."),
        ("it", "Salve, mi chiamo {EU_NAME} e la strada è piena di buche."),
        ("fr", "Madame {EU_NAME} attend une réponse de la mairie depuis un mois."),
    ],
    "phone in words": [
        ("vi", "Cán bộ gọi lại giúp em theo số {SPELLED_VI} ạ."),
        ("vi", "Liên hệ {SPELLED_VI} nếu cần thêm thông tin."),
        ("en", "You can reach me on {SPELLED_EN} in the evening."),
    ],
    "spelt-out e-mail": [
        ("vi", "Xin trả lời qua thư {SPOKEN_EMAIL} giúp tôi."),
        ("en", "Write to {SPOKEN_EMAIL} please, I check it daily."),
    ],
    "old 11-digit mobile": [
        ("vi", "Số cũ của tôi là {OLD_MOBILE}, nay vẫn dùng được."),
        ("vi", "Có người gọi từ số {OLD_MOBILE} đòi tiền."),
    ],
    "ID joined to phone": [
        ("vi", "Thông tin: {CCCD}/{MOBILE}"),
        ("vi", "CCCD:{CCCD}-{MOBILE}, xin hỗ trợ."),
    ],
    "name after bạn": [
        ("vi", "Chào bạn {NAME}, hồ sơ của bạn đã được tiếp nhận."),
        ("vi", "Cảm ơn bạn {GIVEN2} đã phản ánh, chúng tôi sẽ kiểm tra."),
    ],
    "persona, continent, brand, card (must stay)": [
        ("vi", "Tiệm bánh Cô Ba Sài Gòn lấn chiếm vỉa hè {street}."),
        ("vi", "Quán Bác Tôm xả nước thải ra cống chung."),
        ("vi", "Giá vé máy bay đi Châu Âu và Châu Mỹ tăng mạnh, còn Châu Á thì ổn định."),
        ("en", "Rice exports to Africa and Oceania rose this year."),
        ("vi", "Xe Toyota Vios và Honda Lead đỗ chắn lối đi, tài xế Grab Bike bấm còi liên tục."),
        ("vi", "Cửa hàng Vinamilk và Bách Hóa Xanh ở {street} mở đến khuya."),
        ("vi", "Thẻ số {n} Ngân Hàng Á Châu bị nuốt ở cây ATM {street}."),
        ("vi", "Thẻ xe số {n} Bến Xe Miền Đông bị thu lại."),
    ],
}

NAMES = [
    "Đặng Thị Thu Trang", "Lò Văn Páo", "Nông Thị Hiền", "Vương Đình Huệ Anh", "Triệu Văn Quyết",
    "Mạc Thị Bưởi", "Khổng Minh Đạt", "Âu Dương Phong", "La Thị Mỹ Duyên", "Thân Văn Lợi",
]  # fmt: skip
GIVEN2 = ["Thu Trang", "Bảo Ngọc", "Đức Anh", "Khánh Linh", "Gia Huy"]
EU_NAMES = [
    "Jean Lefèvre", "Sophie Martin", "Lukas Becker", "Anja Wagner", "Javier Romero", "Lucía Fernández",
    "Giulia Rossi", "Marco Bianchi",
]  # fmt: skip
EN_NAMES = ["Laura Mitchell", "Kevin Walsh", "Hannah Price"]
STREETS = ["đường Hai Bà Trưng", "phố Hàng Bông", "đường Cách Mạng Tháng Tám", "đường Trần Phú"]
VI_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MOBILE_PREFIXES = ["090", "093", "097", "098", "086", "035", "070", "083", "056", "089"]
OLD_PREFIXES = ["0121", "0126", "0128", "0162", "0165", "0168", "0169", "0186", "0199"]
EMAIL_USERS = ["thutrang.dang", "paolo87", "hien_nong", "quyet.trieu"]
EMAIL_DOMAINS = [("gmail", "com"), ("yahoo", "com"), ("outlook", "com"), ("fpt", "vn")]


def mobile(rng: random.Random) -> str:
    """A ten-digit mobile number, digits only."""
    return rng.choice(MOBILE_PREFIXES) + _digits(rng, 7)


def spelled(rng: random.Random, words: list[str]) -> str:
    """A mobile number written out in words, now and then with a group left in digits."""
    number = mobile(rng)
    spoken = [words[int(d)] for d in number]
    if rng.random() < 0.3:
        return number[:4] + " " + " ".join(spoken[4:])
    return rng.choice([" ", ", "]).join(spoken) if rng.random() < 0.3 else " ".join(spoken)


def spoken_email(rng: random.Random) -> str:
    """An e-mail address with "at"/"dot" (or "a còng"/"chấm") written out."""
    user, (domain, tld) = rng.choice(EMAIL_USERS), rng.choice(EMAIL_DOMAINS)
    at, dot = rng.choice([(" at ", " dot "), (" [at] ", " [dot] "), (" a còng ", " chấm "), (" (at) ", ".")])
    return f"{user}{at}{domain}{dot}{tld}"


def old_mobile(rng: random.Random) -> str:
    """An 11-digit mobile number of the numbering used before 2018."""
    d = rng.choice(OLD_PREFIXES) + _digits(rng, 7)
    return rng.choice([d, f"{d[:5]} {d[5:8]} {d[8:]}", f"{d[:4]}.{d[4:7]}.{d[7:]}"])


def fill(slot: str, rng: random.Random) -> str:
    """A fake value for one slot."""
    makers = {
        "NAME": lambda: rng.choice(NAMES),
        "GIVEN2": lambda: rng.choice(GIVEN2),
        "EU_NAME": lambda: rng.choice(EU_NAMES),
        "EN_NAME": lambda: rng.choice(EN_NAMES),
        "SPELLED_VI": lambda: spelled(rng, VI_DIGITS),
        "SPELLED_EN": lambda: spelled(rng, EN_DIGITS),
        "SPOKEN_EMAIL": lambda: spoken_email(rng),
        "OLD_MOBILE": lambda: old_mobile(rng),
        "MOBILE": lambda: mobile(rng),
        "CCCD": lambda: "0" + f"{rng.randint(1, 96):02d}" + rng.choice("0123") + _digits(rng, 8),
        "street": lambda: rng.choice(STREETS),
        "n": lambda: str(rng.randint(1, 999)),
    }
    return makers[slot]()


def render(template: str, rng: random.Random, lower_names: bool) -> tuple[str, list[dict]]:
    """One sentence from a template, with the gold spans of its personal data."""
    return render_with(template, rng, lower_names, fill, SLOT_TYPE, ("NAME", "GIVEN2"))


def build() -> list[dict]:
    """Every record, in a fixed order."""
    rng = random.Random(SEED)
    records = []
    for kind, templates in TEMPLATES.items():
        for index, (language, template) in enumerate(templates):
            for _ in range(PER_TEMPLATE):
                plain = language == "vi" and rng.random() < 0.34
                text, spans = render(template, rng, lower_names=plain and rng.random() < 0.5)
                if plain:
                    text = strip_marks(text)
                records.append(
                    {
                        "text": text,
                        "spans": spans,
                        "language": language,
                        "diacritics": not plain,
                        "kind": kind,
                        "template": f"issue10-{index:02d}-{kind}",
                    }
                )
    return records


def main() -> None:
    """Write the file."""
    records = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} sentences to {OUT}")


if __name__ == "__main__":
    main()
