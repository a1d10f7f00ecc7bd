"""PII redaction: what is replaced, what stays, offsets, the stage's output and its speed."""

from __future__ import annotations

import time

import pytest

from civicpulse.analysis.base import AnalysisItem, Stage, analysis_text
from civicpulse.analysis.language import LanguageStage
from civicpulse.analysis.pii import PiiStage, redact
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.text import NormalizeStage
from civicpulse.annotations import NormalizeOut, PiiOut
from civicpulse.textkit.vietnamese import normalize_mapped
from tests.conftest import make_settings


def only(text: str, kind: str, value: str, **kwargs: object) -> None:
    """``text`` holds exactly one span, of ``kind``, whose original value is ``value``."""
    result = redact(text, **kwargs)
    assert [(s.type, s.text) for s in result.spans] == [(kind, value)], result.spans
    assert result.redacted_text == text.replace(value, f"[{kind}]", 1)


@pytest.mark.parametrize(
    "number",
    [
        "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678", "+84912345678",
        "84912345678", "(+84) 912345678", "091 234 5678", "0352 123456", "(028) 3822 1234",
        "028 3822 1234", "024.3825.1234", "02363822123", "+84 28 3822 1234",
    ],
)  # fmt: skip
def test_vietnamese_phone_writings(number: str) -> None:
    only(f"Số điện thoại của tôi là {number}, gọi giờ hành chính.", "PHONE", number)


@pytest.mark.parametrize(
    "number", ["+1 (555) 123-4567", "+44 20 7946 0958", "(555) 123-4567", "+33 1 23 45 67 89"]
)
def test_international_phones(number: str) -> None:
    only(f"Please call me at {number} tomorrow.", "PHONE", number, language="en")


def test_two_phones_side_by_side_are_two_spans() -> None:
    result = redact("Liên hệ 0912345678 0987654321 nhé")
    assert [s.text for s in result.spans] == ["0912345678", "0987654321"]
    assert result.redacted_text == "Liên hệ [PHONE] [PHONE] nhé"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("CCCD số 079085012345 cấp ngày 12/10/2021.", "ID", "079085012345"),
        ("Số CCCD: 079 085 012 345.", "ID", "079 085 012 345"),
        ("CMND 271234567 của tôi bị mất.", "ID", "271234567"),
        ("Hộ chiếu B1234567 hết hạn.", "ID", "B1234567"),
        ("SSN 123-45-6789 was stolen.", "ID", "123-45-6789"),
        ("Thẻ BHYT DN4010123456789 bị từ chối.", "INSURANCE", "DN4010123456789"),
        ("Mã số BHXH: 7912345678, công ty nợ bảo hiểm.", "INSURANCE", "7912345678"),
        ("STK 0071000123456 Vietcombank.", "ACCOUNT", "0071000123456"),
        ("số tài khoản của tôi là 1903 1234 5670 12 tại Techcombank", "ACCOUNT", "1903 1234 5670 12"),
        ("Account number: 12345678901 at the bank.", "ACCOUNT", "12345678901"),
        ("Email: nguyen.van.nam@gmail.com.", "EMAIL", "nguyen.van.nam@gmail.com"),
        ("Trang https://www.facebook.com/nam.nguyen.123 đăng tin sai.", "URL_PROFILE",
         "https://www.facebook.com/nam.nguyen.123"),
        ("Nick tiktok.com/@hoangvu_99 quay clip.", "URL_PROFILE", "tiktok.com/@hoangvu_99"),
        ("Zalo: zalo.me/0912345678.", "URL_PROFILE", "zalo.me/0912345678"),
        ("fb.com/maitran88 nhắn tin lừa đảo.", "URL_PROFILE", "fb.com/maitran88"),
        ("Tôi sinh ngày 12/03/1985 tại Huế.", "DATE_OF_BIRTH", "12/03/1985"),
        ("Ngày sinh: 5 tháng 7 năm 1990.", "DATE_OF_BIRTH", "5 tháng 7 năm 1990"),
        ("toi sinh nam 1975, que Nghe An.", "DATE_OF_BIRTH", "1975"),
        ("DOB: 1985-03-12.", "DATE_OF_BIRTH", "1985-03-12"),
        ("He was born on 3 May 1990.", "DATE_OF_BIRTH", "3 May 1990"),
    ],
)  # fmt: skip
def test_numbers_links_and_dates_of_birth(text: str, kind: str, value: str) -> None:
    only(text, kind, value)


@pytest.mark.parametrize(
    "plate", ["51F-123.45", "29A-12345", "30E 123.45", "59-X1 234.56", "51F12345", "59X1-234.56"]
)
def test_licence_plates(plate: str) -> None:
    only(f"Xe biển số {plate} vượt đèn đỏ.", "PLATE", plate)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Nhà tôi ở số 12 ngõ 34 phố Huế, phường Bạch Mai, Hà Nội.",
         "Nhà tôi ở [ADDRESS] phố Huế, phường Bạch Mai, Hà Nội."),
        ("Địa chỉ 12/3 hẻm 45 đường Lê Lợi, phường Bến Nghé, TP. Hồ Chí Minh.",
         "Địa chỉ [ADDRESS] đường Lê Lợi, phường Bến Nghé, TP. Hồ Chí Minh."),
        ("Tôi ở nhà số 5, ngách 6/12, xã Tân Phú, tỉnh Đồng Nai.",
         "Tôi ở [ADDRESS], xã Tân Phú, tỉnh Đồng Nai."),
        ("Rác ùn ở đầu ngõ 7 phường Trung Hòa.", "Rác ùn ở đầu [ADDRESS] phường Trung Hòa."),
        ("Kiệt 12 Hải Châu ngập.", "[ADDRESS] Hải Châu ngập."),
        ("nha toi o so 45 duong Tran Phu, phuong 3, quan 5",
         "nha toi o [ADDRESS] duong Tran Phu, phuong 3, quan 5"),
        ("Tôi ở 25 Lý Thường Kiệt, phường Hàng Bài.", "Tôi ở [ADDRESS] Lý Thường Kiệt, phường Hàng Bài."),
    ],
)  # fmt: skip
def test_addresses_keep_street_ward_and_province(text: str, redacted: str) -> None:
    result = redact(text)
    assert result.redacted_text == redacted
    assert {s.type for s in result.spans} == {"ADDRESS"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Anh Nguyễn Văn Nam ở xóm tôi đổ rác bừa bãi.", "Nguyễn Văn Nam"),
        ("Chị Lan bán rau bị thu phí sai.", "Lan"),
        ("Bà Trần Thị Mai chưa nhận trợ cấp.", "Trần Thị Mai"),
        ("Con tôi là Lê Minh Khôi, học lớp 3.", "Lê Minh Khôi"),
        ("Họ tên: NGUYỄN VĂN AN", "NGUYỄN VĂN AN"),
        ("anh Nguyen Van Nam o phuong 3 quan 5", "Nguyen Van Nam"),
        ("toi la nguyen van an, o quan Binh Thanh", "nguyen van an"),
        ("Gia dinh ong tran thi mai bi ngap nuoc", "tran thi mai"),
        ("Hôm qua Đàm Vĩnh Hưng đến nhà tôi đòi nợ.", "Đàm Vĩnh Hưng"),
        ("My name is Tom Lee and I live here.", "Tom Lee"),
    ],
)  # fmt: skip
def test_person_names_with_and_without_diacritics(text: str, name: str) -> None:
    only(text, "PERSON", name)


def test_ner_finds_a_name_the_patterns_cannot_explain() -> None:
    text = "Hôm qua Rơ Châm Bin đến nhà tôi đòi nợ."
    assert redact(text, use_ner=False).spans == ()
    assert redact(text).redacted_text == "Hôm qua [PERSON] đến nhà tôi đòi nợ."


@pytest.mark.parametrize(
    "text",
    [
        "Theo Nghị định 123/2024/NĐ-CP, mức phạt từ 5.000.000 đồng đến 2,5 triệu mỗi lần.",
        "Quyết định số 1234/QĐ-UBND ngày 12/10/2026 của UBND tỉnh Bình Dương.",
        "Năm 2025 giá điện tăng 4,8%, lúc 23:45 vẫn còn ồn, từ 7h30 đến 22 giờ.",
        "Quốc lộ 1A, đường 3/2 và đường 30/4 ngập sâu, kẹt xe từ km 1720.",
        "Gọi tổng đài 1900 1234, 1800 1091, 1900.6060 hoặc cấp cứu 115.",
        "Ngân sách 350000000 đồng, 123456789 lượt truy cập, 45000000 VNĐ.",
        "Người dân phản ánh đường Nguyễn Trãi và phố Bà Triệu bị đào bới.",
        "Tôi ở TP. Hồ Chí Minh, quận Hai Bà Trưng cũ, gần phường Võ Thị Sáu và chợ Bà Chiểu.",
        "Thửa đất số 123, tờ bản đồ số 45, tổ dân phố số 6 phường Bến Nghé.",
        "Giám đốc Sở Xây dựng, ông Trần Văn Bình, hứa trả lời trước 12/10/2026.",
        "Lớp 12A3 trường THPT Lê Quý Đôn có 45 học sinh, mã hồ sơ H29.22-240512-0001.",
        "chi co 3 nguoi o nha, anh em toi rat lo, phan anh duong bi ngap.",
        "The fee rose by 30% in 2025, from $120 to $150 per month.",
    ],
)
def test_hard_negatives_stay(text: str) -> None:
    result = redact(text)
    assert result.spans == ()
    assert result.redacted_text == text


def test_offsets_map_back_and_placeholders_sit_in_place() -> None:
    text = (
        "Tôi là Nguyễn Văn Nam, sinh ngày 12/03/1985, CCCD 079085012345, ở số 12 ngõ 34 phố Huế, "
        "phường Bạch Mai; ĐT 0912.345.678, email nam@example.org, xe 29A-123.45, STK 0071000123456."
    )
    result = redact(text)
    kinds = [s.type for s in result.spans]
    assert kinds == ["PERSON", "DATE_OF_BIRTH", "ID", "ADDRESS", "PHONE", "EMAIL", "PLATE", "ACCOUNT"]
    for span in result.spans:
        assert text[span.start : span.end] == span.text
    assert result.redacted_text == (
        "Tôi là [PERSON], sinh ngày [DATE_OF_BIRTH], CCCD [ID], ở [ADDRESS] phố Huế, "
        "phường Bạch Mai; ĐT [PHONE], email [EMAIL], xe [PLATE], STK [ACCOUNT]."
    )
    # rebuilding from the spans gives back the original text
    rebuilt, last = [], 0
    for span in result.spans:
        rebuilt += [result.text[last : span.start], span.text]
        last = span.end
    assert "".join([*rebuilt, text[last:]]) == text


def test_stage_output_shape_redacts_the_text_as_written_and_reports_failures() -> None:
    stage = PiiStage(make_settings("sqlite://"), use_ner=False)
    assert isinstance(stage, Stage) and stage.name == "pii"
    items = [
        AnalysisItem(id=1, text="Gọi 0912345678 nhé"),
        # a normalised text without a map back cannot be shown: the text as written is redacted
        AnalysisItem(
            id=2, text="Anh Nguyễn Văn Nam gọi", annotations={"normalize": NormalizeOut(text="unrelated")}
        ),
        AnalysisItem(id=3, text=None),  # type: ignore[arg-type]
    ]
    result = stage.process(items)
    first, second = result.outputs[1], result.outputs[2]
    assert isinstance(first, PiiOut) and isinstance(second, PiiOut)
    assert first.model_dump() == {
        "redacted_text": "Gọi [PHONE] nhé",
        "model_text": None,
        "spans": [{"type": "PHONE", "start": 4, "end": 14}],
        "found": [{"type": "PHONE", "start": 4, "end": 14, "text": "0912345678", "field": None}],
        "fields": {},
    }
    assert second.redacted_text == "Anh [PERSON] gọi" and second.model_text is None
    assert [span.model_dump() for span in second.spans] == [{"type": "PERSON", "start": 4, "end": 18}]
    assert set(result.failures) == {3} and "TypeError" in result.failures[3]


def test_stage_runs_in_the_pipeline() -> None:
    pipeline = Pipeline([PiiStage(make_settings("sqlite://"))])
    result = pipeline.run([AnalysisItem(id=7, text="Chị Trần Thị Mai, SĐT 0987 654 321.")])
    pii = result.outputs[7]["pii"]
    assert isinstance(pii, PiiOut)
    assert pii.redacted_text == "Chị [PERSON], SĐT [PHONE]."


def test_thousand_short_texts_in_a_few_seconds() -> None:
    stage = PiiStage(make_settings("sqlite://"))
    stage.process([AnalysisItem(id=0, text="Hôm qua Rơ Châm Bin đến.")])  # loads the NER model
    samples = [
        "Anh Nguyễn Văn Nam ở số 12 ngõ 34 phố Huế gọi 0912345678 báo đèn đường hỏng.",
        "Đường Nguyễn Trãi ngập sâu sau mưa, đề nghị UBND phường xử lý.",
        "Xe 51F-123.45 đỗ trên vỉa hè, theo Nghị định 100/2019/NĐ-CP phạt 2,5 triệu.",
        "toi la tran thi mai, sdt 0987 654 321, email mai@example.org",
    ]
    items = [AnalysisItem(id=i, text=samples[i % len(samples)]) for i in range(1000)]
    start = time.perf_counter()
    result = stage.process(items)
    elapsed = time.perf_counter() - start
    assert len(result.outputs) == 1000 and not result.failures
    assert elapsed < 4.0, f"1,000 short texts took {elapsed:.2f} s"


# ----------------------------------------------------------- what people read keeps their spelling
def _analysed(text: str, **fields: object) -> PiiOut:
    settings = make_settings("sqlite://")
    pipeline = Pipeline([LanguageStage(settings), NormalizeStage(settings), PiiStage(settings)])
    result = pipeline.run([AnalysisItem(id=1, text=text, **fields)])  # type: ignore[arg-type]
    pii = result.outputs[1]["pii"]
    assert isinstance(pii, PiiOut)
    return pii


@pytest.mark.parametrize(
    ("text", "redacted", "values"),
    [
        ("CCCD 012345678901 của tôi bị mất", "CCCD [ID] của tôi bị mất", ["012345678901"]),
        ("Quán coffee ở đầu hẻm ồn quá, gọi 0912345678", "Quán coffee ở đầu hẻm ồn quá, gọi [PHONE]",
         ["0912345678"]),
        ("Ồn quáaaa, anh Nguyễn Văn Nammm gọi hoài", "Ồn quáaaa, anh [PERSON] gọi hoài",
         ["Nguyễn Văn Nammm"]),
        ("toi la  tran thi mai, sdt 0987654321, duong ngap qua",
         "toi la  [PERSON], sdt [PHONE], duong ngap qua", ["tran thi mai", "0987654321"]),
    ],
)  # fmt: skip
def test_redacted_text_keeps_the_citizens_spelling(text: str, redacted: str, values: list[str]) -> None:
    pii = _analysed(text)
    assert pii.redacted_text == redacted
    assert [text[s.start : s.end] for s in pii.spans] == values
    assert [f.text for f in pii.found] == values


def test_models_read_the_normalised_redacted_text() -> None:
    pii = _analysed("toi la tran thi mai, sdt 0987654321, ko dc ho tro, duong ngap quaaa")
    assert pii.redacted_text == "toi la [PERSON], sdt [PHONE], ko dc ho tro, duong ngap quaaa"
    assert pii.model_text is not None and "[PERSON]" in pii.model_text and "[PHONE]" in pii.model_text
    assert "không được" in pii.model_text and "quá" in pii.model_text and "mai" not in pii.model_text
    item = AnalysisItem(id=1, text="x", annotations={"pii": pii})
    assert analysis_text(item) == pii.model_text
    assert "model_text" not in PiiOut.private and pii.stored()["model_text"] == pii.model_text


def test_offset_map_between_normalised_and_raw_text() -> None:
    raw = "Anh  Nguyễn Văn Nammm, ko đc gọi\u200b 0912345678"
    mapped = normalize_mapped(raw)
    assert mapped.text == "Anh Nguyễn Văn Nam, không được gọi 0912345678"
    spans = mapped.offset_map()
    name = mapped.text.index("Nguyễn Văn Nam")
    assert raw[slice(*spans.to_source(name, name + len("Nguyễn Văn Nam")))] == "Nguyễn Văn Nammm"
    phone = mapped.text.index("0912345678")
    assert raw[slice(*spans.to_source(phone, phone + 10))] == "0912345678"
    assert spans.from_source(raw.index("ko"), raw.index("ko") + 5) == (
        mapped.text.index("không"),
        mapped.text.index("được") + len("được"),
    )


# ------------------------------------------------------------------------------- side fields
def test_side_fields_are_redacted_and_their_values_kept_private() -> None:
    pii = _analysed(
        "Đèn đường hỏng",
        locality="nhà bà Nguyễn Thị Hoa, SĐT 0977123456, phường Bến Nghé",
        source_id="zalo-0912345678",
        attachment_names=("CCCD_012345678901.jpg", "anh_duong.png"),
    )
    assert pii.redacted_text == "Đèn đường hỏng"
    assert pii.fields == {
        "locality": "nhà bà [PERSON], SĐT [PHONE], phường Bến Nghé",
        "source_id": "zalo-[PHONE]",
        "attachment:0": "CCCD_[ID].jpg",
        "attachment:1": "anh_duong.png",
    }
    assert {(f.field, f.type, f.text) for f in pii.found} == {
        ("locality", "PERSON", "Nguyễn Thị Hoa"),
        ("locality", "PHONE", "0977123456"),
        ("source_id", "PHONE", "0912345678"),
        ("attachment:0", "ID", "012345678901"),
    }
    assert "found" not in pii.stored() and "0977123456" not in str(pii.stored())


def test_no_side_fields_no_entries() -> None:
    assert _analysed("Đèn đường hỏng", locality="  ").fields == {}


# ------------------------------------------------------------------- misses found on new cases
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Sinh viên Nguyễn Văn Bình bị nợ học bổng.", "Nguyễn Văn Bình"),
        ("Giáo viên Trần Thị Hoa thu tiền học thêm.", "Trần Thị Hoa"),
        ("Cán bộ Phạm Văn Đông làm khó dân.", "Phạm Văn Đông"),
        ("Bệnh nhân Lê Thị Cúc chờ năm tiếng.", "Lê Thị Cúc"),
        ("hoc sinh nguyen van binh bi danh", "nguyen van binh"),
        ("The patient Anna Schmidt waited all night.", "Anna Schmidt"),
        ("Bonjour, je m'appelle Pierre Dubois et j'habite ici.", "Pierre Dubois"),
        ("Hallo, mein Name ist Klaus Müller.", "Klaus Müller"),
        ("Hola, me llamo Carlos García y vivo aquí.", "Carlos García"),
        ("Chào bạn Nguyễn Văn Nam, cảm ơn bạn.", "Nguyễn Văn Nam"),
        ("Chào bạn Minh Anh.", "Minh Anh"),
    ],
)
def test_names_after_roles_other_languages_and_ban(text: str, name: str) -> None:
    only(text, "PERSON", name)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Số của tôi là không chín bảy bảy một hai ba bốn năm sáu.", "PHONE",
         "không chín bảy bảy một hai ba bốn năm sáu"),
        ("so cua toi la khong chin tam tam mot hai ba bon nam sau", "PHONE",
         "khong chin tam tam mot hai ba bon nam sau"),
        ("Call me at zero nine seven seven one two three four five six.", "PHONE",
         "zero nine seven seven one two three four five six"),
        ("Email: nguyenvana at gmail dot com", "EMAIL", "nguyenvana at gmail dot com"),
        ("mail: nguyenvana a còng gmail chấm com nhé", "EMAIL", "nguyenvana a còng gmail chấm com"),
        ("Gọi số 01693 456 789 nhé", "PHONE", "01693 456 789"),
        ("SĐT cũ 01234567890 không dùng nữa", "PHONE", "01234567890"),
    ],
)  # fmt: skip
def test_spelled_phones_spoken_emails_and_old_mobiles(text: str, kind: str, value: str) -> None:
    only(text, kind, value)


@pytest.mark.parametrize("joined", ["012345678901/0977123456", "CCCD:012345678901-0977123456"])
def test_id_and_phone_joined_by_punctuation(joined: str) -> None:
    result = redact(joined)
    assert [(s.type, s.text) for s in result.spans] == [("ID", "012345678901"), ("PHONE", "0977123456")]


@pytest.mark.parametrize(
    "text",
    [
        "Tôi uống cà phê Cô Ba Sài Gòn mỗi sáng.",
        "Quán Bác Tôm ở chợ bán đắt.",
        "Sữa Vinamilk Ông Thọ bị hết hạn.",
        "Hàng nhập từ Châu Á và Châu Âu, cả Châu Phi.",
        "Exports to Africa and South America fell.",
        "Xe máy Yamaha Exciter và Honda Vision đỗ trước nhà.",
        "Tài xế Grab Bike chạy ẩu.",
        "Thẻ số 5 Ngân Hàng Á Châu bị khóa.",
        "Thẻ xe số 123 Bến Thành bị mất.",
        "Giáo viên Tiếng Anh dạy tốt.",
        "Cảm ơn bạn rất nhiều.",
        "Ban quản lý chợ Bến Thành trả lời chậm.",
        "Năm 2024 có ba hai một người đến.",
        "We met at noon. Com on.",
    ],
)
def test_personas_continents_brands_and_card_prefixes_stay(text: str) -> None:
    result = redact(text)
    assert result.spans == (), result.spans
