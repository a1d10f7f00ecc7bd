"""Places stage: units in force since 2025-07-01, old names mapped to them, codes, hints, speed."""

from __future__ import annotations

import json
import random
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from underthesea import address
from underthesea.address import convert_address

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.gazetteer import build, gazetteer
from civicpulse.analysis.places import PlacesStage
from civicpulse.annotations import NormalizeOut, UnitBrief
from civicpulse.settings import Settings

HCMC, HANOI, DANANG, HUE, TUYEN_QUANG, DONG_NAI, TAY_NINH = "79", "01", "48", "46", "08", "75", "80"


@pytest.fixture(scope="module")
def stage() -> PlacesStage:
    return PlacesStage(Settings())


@pytest.fixture(scope="module")
def mapping() -> dict[str, Any]:
    return json.loads((Path(address.__file__).parent / "data" / "mapping.json").read_text(encoding="utf-8"))


def province(stage: PlacesStage, text: str, locality: str | None = None) -> str | None:
    out = stage.analyse(text, locality)
    return out.province.code if out.province else None


def commune(stage: PlacesStage, text: str, locality: str | None = None) -> str | None:
    out = stage.analyse(text, locality)
    return out.commune.code if out.commune else None


def test_gazetteer_holds_the_current_units_with_codes() -> None:
    gaz = gazetteer()
    assert len(gaz.provinces) == 34
    assert len(gaz.communes) == 3321
    assert all(len(u.code) == 5 and u.code.isdigit() for u in gaz.communes.values())
    assert {u.province_code for u in gaz.communes.values()} == set(gaz.provinces)
    assert gaz.unit_named("Phường Bến Thành", HCMC).code == "26743"


def test_building_the_gazetteer_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gazetteer tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert len(build().provinces) == 34


@pytest.mark.parametrize(
    ("text", "code", "commune_name"),
    [
        ("Đường liên xã ở tỉnh Nghệ An xuống cấp.", "40", None),
        ("Ô nhiễm không khí ở Hà Nội ngày càng tệ.", HANOI, None),
        ("Phường Bến Thành, TP.HCM: vỉa hè bị lấn chiếm.", HCMC, "Phường Bến Thành"),
        ("Xã Bát Tràng, Hà Nội: khói từ lò gốm.", HANOI, "Xã Bát Tràng"),
        ("Đặc khu Côn Đảo cần thêm chuyến tàu.", HCMC, "Đặc khu Côn Đảo"),
    ],
)
def test_current_names(stage: PlacesStage, text: str, code: str, commune_name: str | None) -> None:
    out = stage.analyse(text)
    assert out.province.code == code
    expected = gazetteer().unit_named(commune_name, code).code if commune_name else None
    assert (out.commune.code if out.commune else None) == expected
    assert all(p.old_unit is None for p in out.places)


@pytest.mark.parametrize(
    ("text", "old_key", "new_code"),
    [
        ("Tôi ở tỉnh Hà Giang, đường lên bản bị sạt lở.", "tinhhagiang", TUYEN_QUANG),
        ("Khu công nghiệp ở Bình Dương xả thải ra sông.", "tinhbinhduong", HCMC),
        ("Quảng Nam mưa lũ, nhiều thôn bị cô lập.", "tinhquangnam", DANANG),
        ("Ở Long An nông dân thiếu nước ngọt.", "tinhlongan", TAY_NINH),
        ("tinh binh phuoc thieu truong hoc", "tinhbinhphuoc", DONG_NAI),
    ],
)
def test_old_province_maps_to_the_new_one(
    stage: PlacesStage, mapping: dict[str, Any], text: str, old_key: str, new_code: str
) -> None:
    new_key = mapping["province_mapping"][old_key]
    assert mapping["province_names"][new_key]["code"] == new_code  # the data says so
    out = stage.analyse(text)
    assert out.province.code == new_code
    [place] = out.places
    assert place.level == "province"
    assert place.old_unit == mapping["old_province_names"][old_key]["name"]


def test_thua_thien_hue_is_the_city_of_hue(stage: PlacesStage) -> None:
    out = stage.analyse("Đường lên đèo ở tỉnh Thừa Thiên Huế cần sửa.")
    assert out.province == UnitBrief(name="Thành phố Huế", code=HUE)


@pytest.mark.parametrize(
    ("text", "old_unit"),
    [
        ("Cống ở Q.1 bị tắc mấy tuần nay.", "Quận 1, Thành phố Hồ Chí Minh"),
        ("Quận Gò Vấp ngập mỗi khi mưa.", "Quận Gò Vấp, Thành phố Hồ Chí Minh"),
        ("H. Củ Chi thiếu nước sạch mùa khô.", "Huyện Củ Chi, Thành phố Hồ Chí Minh"),
        ("Ở Thủ Đức kẹt xe quá.", "Thành phố Thủ Đức, Thành phố Hồ Chí Minh"),
        ("TP Dĩ An thiếu trường học.", "Thành phố Dĩ An, Tỉnh Bình Dương"),
    ],
)
def test_old_district_gives_its_province(stage: PlacesStage, text: str, old_unit: str) -> None:
    out = stage.analyse(text)
    assert out.province.code == HCMC
    assert out.commune is None
    assert [p.old_unit for p in out.places] == [old_unit]


def test_old_district_that_became_one_commune(stage: PlacesStage) -> None:
    out = stage.analyse("Huyện Côn Đảo: giá vé tàu cao.")
    assert out.commune.name == "Đặc khu Côn Đảo"


def test_every_current_commune_resolves_from_its_address(stage: PlacesStage) -> None:
    gaz = gazetteer()
    for unit in gaz.communes.values():
        text = f"{unit.name}, {gaz.provinces[unit.province_code].name}"
        out = stage.analyse(text)
        assert out.commune == UnitBrief(name=unit.name, code=unit.code), text


def test_marks_tell_apart_names_that_fold_alike(stage: PlacesStage) -> None:
    assert commune(stage, "Xã Cẩm Giang, Hải Phòng") == "10888"
    assert commune(stage, "Xã Cẩm Giàng, Hải Phòng") == "10903"
    assert commune(stage, "xa cam giang, hai phong") is None  # both fit: only the province is sure
    assert province(stage, "xa cam giang, hai phong") == "31"
    assert province(stage, "Khánh Hoà cần quản lý giá phòng.") == province(stage, "Khánh Hòa") == "56"


def test_old_wards_agree_with_underthesea(stage: PlacesStage, mapping: dict[str, Any]) -> None:
    records = [r for r in mapping["ward_mapping"] if r["old_ward"] and r["new_ward"]]
    for record in random.Random(7).sample(records, 300):
        old = f"{record['old_ward']}, {record['old_district']}, {record['old_province']}"
        expected = convert_address(old)
        out = stage.analyse(old)
        assert out.commune.name == expected.new.ward, old
        assert out.province.name == expected.new.province, old


def test_old_ward_with_its_district(stage: PlacesStage) -> None:
    out = stage.analyse("Phường 5, Quận 3, TP.HCM mất điện cả ngày.")
    assert out.commune.name == "Phường Bàn Cờ"
    assert out.places[0].old_unit == "Phường 5, Quận 3, Thành phố Hồ Chí Minh"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("nha toi o q1 tphcm, rac khong ai don", HCMC),
        ("ha giang sat lo dat", TUYEN_QUANG),
        ("Ha Noi o nhiem bui min", HANOI),
        ("quang nam mua lu", DANANG),
        ("dak lak thieu nuoc", "66"),
    ],
)
def test_without_diacritics(stage: PlacesStage, text: str, code: str) -> None:
    assert province(stage, text) == code


def test_commune_without_diacritics(stage: PlacesStage) -> None:
    assert commune(stage, "phuong cau giay ha noi ket xe") == "00166"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("TP.HCM kẹt xe giờ cao điểm.", HCMC),
        ("TP HCM: đề nghị sửa đèn tín hiệu.", HCMC),
        ("Ở Sài Gòn giá thuê nhà quá cao.", HCMC),
        ("hcm nóng quá, điện cúp liên tục", HCMC),
        ("HN tắc đường kinh khủng mỗi sáng.", HANOI),
        ("tp. Đà Nẵng cần thêm xe buýt.", DANANG),
        ("Q10 có nhiều quán nhậu lấn vỉa hè.", HCMC),
        ("BR-VT: tàu cá neo đậu sai quy định.", HCMC),
    ],
)
def test_abbreviations(stage: PlacesStage, text: str, code: str) -> None:
    assert province(stage, text) == code


def test_locality_hint_settles_an_ambiguous_name(stage: PlacesStage) -> None:
    text = "Xã Tân Phú thiếu nước sinh hoạt."
    assert commune(stage, text) is None  # five provinces have a Xã Tân Phú
    assert commune(stage, text, "Tỉnh Đồng Nai") == "26116"
    assert commune(stage, text, "Tỉnh Nghệ An") == "17272"
    assert province(stage, text, "Tỉnh Nghệ An") == "40"


def test_locality_hint_alone(stage: PlacesStage) -> None:
    out = stage.analyse("đèn đường hỏng lâu rồi", "Phường Bến Thành, Thành phố Hồ Chí Minh")
    assert out.places == []
    assert out.province.code == HCMC
    assert out.commune.code == "26743"


def test_bare_ward_name_needs_a_province(stage: PlacesStage) -> None:
    assert stage.analyse("Đèn đường ở An Bình bị hỏng.").places == []
    out = stage.analyse("Đèn đường ở An Bình, Cần Thơ bị hỏng.")
    assert out.commune.name == "Phường An Bình"
    assert out.province.code == "92"


@pytest.mark.parametrize(
    "text",
    [
        "Chúng tôi chỉ mong cuộc sống hòa bình, ấm no.",
        "chung toi muon song hoa binh",
        "Nhà tôi ở đường Trần Hưng Đạo, cạnh trường THPT Lê Lợi.",
        "Học tập và làm theo tấm gương đạo đức Hồ Chí Minh.",
        "Ông Trần Văn Lâm tổ trưởng dân phố không giải quyết.",
        "Mong các cấp thống nhất phương án đền bù cho dân.",
        "Công ty Sài Gòn Xanh xả rác ra kênh.",
        "Bệnh viện Chợ Rẫy quá tải, phải chờ cả ngày.",
    ],
)
def test_non_place_words_are_not_matched(stage: PlacesStage, text: str) -> None:
    assert stage.analyse(text).places == []


def test_common_word_that_is_a_commune_name(stage: PlacesStage) -> None:
    out = stage.analyse("Tây Ninh: buôn lậu qua biên giới.")  # Tây Ninh has a Xã Biên Giới
    assert [p.mentioned_as for p in out.places] == ["Tây Ninh"]
    assert out.commune is None


def test_names_do_not_run_across_commas(stage: PlacesStage) -> None:
    out = stage.analyse("xa tan binh, thanh pho tay ninh, tinh tay ninh")
    assert out.province.code == TAY_NINH
    assert out.commune.name == "Phường Bình Minh"


def test_output_shape(stage: PlacesStage) -> None:
    text = "Phường 5, Quận 3, TP.HCM mất điện; Hà Giang thì sạt lở."
    out = stage.analyse(text)
    assert set(out.public()) == {"places", "province", "commune"}
    keys = {"name", "level", "code", "province_code", "mentioned_as", "start", "end", "old_unit"}
    for place in out.places:
        assert set(place.model_dump()) == keys
        assert text[place.start : place.end] == place.mentioned_as
        assert place.level in ("province", "commune")
    assert [p.mentioned_as for p in out.places] == ["Phường 5", "Quận 3", "TP.HCM", "Hà Giang"]
    assert out.province == UnitBrief(name="Thành phố Hồ Chí Minh", code=HCMC)
    assert out.places[0].province_code == HCMC


def test_process_reads_normalised_text_and_keeps_failures_as_data(stage: PlacesStage) -> None:
    items = [
        AnalysisItem(id=1, text="ha noi", annotations={"normalize": NormalizeOut(text="Đà Nẵng")}),
        AnalysisItem(id=2, text="Không có địa danh nào.", locality="Thành phố Huế"),
        AnalysisItem(id=3, text=None),  # type: ignore[arg-type]
        AnalysisItem(id=4, text=12345),  # type: ignore[arg-type]
    ]
    result = stage.process(items)
    assert result.outputs[1].province.code == DANANG
    assert result.outputs[2].province.code == HUE
    assert result.outputs[3].places == []
    assert set(result.failures) == {4}
    assert "places failed" in result.failures[4]


def test_throughput(stage: PlacesStage) -> None:
    texts = [
        "Phường 5, Quận 3, TP.HCM mất điện cả ngày.",
        "Khu công nghiệp ở Bình Dương xả thải ra sông.",
        "Chúng tôi chỉ mong cuộc sống hòa bình, ấm no.",
        "nha toi o q1 tphcm, rac khong ai don",
    ]
    items = [AnalysisItem(id=i, text=texts[i % 4] + f" ({i})") for i in range(4000)]
    stage.process(items[:10])
    started = time.perf_counter()
    result = stage.process(items)
    rate = len(items) / (time.perf_counter() - started)
    assert len(result.outputs) == len(items)
    assert rate >= 1000, f"{rate:.0f} items/s"  # about 10,000/s here; target 2,000/s
