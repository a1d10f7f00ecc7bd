"""Builds bench/data/pii_gold.jsonl: PII gold sentences written for the project, with exact offsets.

Sentences are assembled from hand-written templates and fake values (fixed seed), so offsets are
computed, never typed. Slots in UPPER case are personal data (their gold type is in ``SLOT_TYPE``);
slots in lower case are ordinary text, many of them hard negatives (decrees, money, dates, roads,
public hotlines). About a third of the Vietnamese sentences lose their diacritics. A quarter of the
templates form a held-out part (``split == "heldout"``) that was not looked at while tuning.

Run: ``python bench/pii_gold_build.py`` (rewrites the file).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

SEED = 20250917
PER_TEMPLATE = 5
OUT = Path(__file__).parent / "data" / "pii_gold.jsonl"

SLOT_TYPE = {
    "PHONE": "PHONE",
    "LANDLINE": "PHONE",
    "PHONE_INTL": "PHONE",
    "PHONE_US": "PHONE",
    "CCCD": "ID",
    "CMND": "ID",
    "PASSPORT": "ID",
    "SSN": "ID",
    "BHYT": "INSURANCE",
    "BHXH": "INSURANCE",
    "ACC": "ACCOUNT",
    "EMAIL": "EMAIL",
    "PROFILE": "URL_PROFILE",
    "PLATE": "PLATE",
    "ADDR": "ADDRESS",
    "HOUSENO": "ADDRESS",
    "NAME": "PERSON",
    "GIVEN": "PERSON",
    "EN_NAME": "PERSON",
    "DOB": "DATE_OF_BIRTH",
    "DOB_EN": "DATE_OF_BIRTH",
    "YOB": "DATE_OF_BIRTH",
}

# ---------------------------------------------------------------- templates (Vietnamese, tuning part)
TUNE_VI = [
    "Tôi là {NAME}, ở {ADDR} {street}, {ward}, {district}, xin phản ánh đường bị ngập sau mưa.",
    "Số điện thoại liên hệ của tôi là {PHONE}, mong cán bộ gọi lại sớm.",
    "Anh {NAME} ở {ward} gọi {PHONE} báo có người đổ trộm rác ra {road}.",
    "Chị {GIVEN} bán hàng ở chợ {ward} bị thu phí {money} mà không có biên lai.",
    "Xe tải biển số {PLATE} chạy quá tốc độ trên {road} lúc {time}, đề nghị xử lý.",
    "Gia đình tôi ở {ADDR} {street}, {ward}, {province} bị mất nước {count}.",
    "Tôi tên là {NAME}, sinh ngày {DOB}, CCCD số {CCCD}, đề nghị cấp lại giấy chứng nhận.",
    "Họ tên: {NAME}. Điện thoại: {PHONE}. Email: {EMAIL}.",
    "Con tôi là {NAME}, học lớp 3 trường tiểu học ở {ward}, bị thu tiền học thêm {money}.",
    "Ông {NAME} hàng xóm của tôi xây nhà lấn chiếm vỉa hè {street} từ {date}.",
    "Đề nghị chuyển tiền hỗ trợ vào STK {ACC} ngân hàng Vietcombank, chủ tài khoản là tôi.",
    "Số tài khoản của tôi: {ACC} (Agribank chi nhánh {district}).",
    "Thẻ BHYT số {BHYT} của mẹ tôi bị từ chối khi khám ở bệnh viện huyện.",
    "Tôi có CMND số {CMND} cấp năm {year}, nay muốn đổi sang CCCD gắn chip.",
    "Bà {NAME}, sinh năm {YOB}, ở {ward} chưa nhận được tiền trợ cấp theo {decree}.",
    "Nhà tôi ở {ADDR}, {ward}, {district}, {province}; đèn đường hỏng đã {count}.",
    "Liên hệ qua Zalo {PHONE} hoặc facebook {PROFILE} để biết thêm chi tiết.",
    "Xe máy {PLATE} đỗ chắn lối đi trước {ADDR} {street} nhiều ngày nay.",
    "Em là {NAME}, sinh viên, muốn hỏi về thủ tục tạm trú ở {ward}, {province}.",
    "Theo {decree}, mức phạt là {money}, nhưng cán bộ thu của tôi nhiều hơn.",
    "Hộ chiếu số {PASSPORT} của tôi hết hạn, tôi cần làm lại gấp trước {date}.",
    "Tôi đã gọi đường dây nóng {hotline} nhưng không ai nghe máy từ {time}.",
    "Chú {GIVEN} ở {ADDR} hay đốt rác gây khói bụi cho cả xóm.",
    "Mã số BHXH của tôi là {BHXH}, công ty nợ đóng bảo hiểm {count}.",
    "Đường {road} đoạn qua {ward} có ổ gà lớn, đã có {count} vụ tai nạn.",
    "Vui lòng phản hồi qua email {EMAIL} hoặc số {PHONE} trong giờ hành chính.",
    "Cháu {NAME} bị xe {PLATE} tông ở ngã tư gần {ward} rồi bỏ chạy.",
    "Tôi là {NAME}, số CCCD {CCCD}, thường trú tại {ADDR} {street}, {ward}.",
    "Phí gửi xe tăng từ {money} lên {money} mỗi tháng, tăng {pct} là quá cao.",
    "Ngày sinh: {DOB}; giới tính: nữ; số điện thoại {PHONE}.",
    "Bác {NAME} bán nước ở đầu {ADDR} bị đội trật tự tịch thu hàng.",
    "Tài khoản Facebook {PROFILE} đăng tin sai sự thật về dịch bệnh ở {province}.",
    "{decree} quy định rõ thời hạn giải quyết là {count} nhưng hồ sơ của tôi nộp từ {date} vẫn chưa xong.",
    "Anh {GIVEN} ơi, số {PHONE} có phải của tổ trưởng dân phố không?",
    "Chồng tôi là {NAME}, bị tai nạn lao động ở công ty tại {district}, {province}.",
    "Biển kiểm soát {PLATE}, xe ô tô con màu trắng, thường xuyên đỗ trên {street}.",
    "Gọi cho tôi theo số {LANDLINE} (giờ hành chính) hoặc {PHONE}.",
    "Hẻm nhà tôi {ADDR} bị nước tràn vào từ {date}, hơn {count} chưa ai xử lý.",
    "Giám đốc Sở Xây dựng, ông {official}, đã hứa trả lời trước {date}.",
    "Tiền điện tháng {month} nhà tôi lên {money}, gấp đôi tháng trước.",
    "Cô {NAME} giáo viên chủ nhiệm thu quỹ lớp {money} mỗi học sinh.",
    "Người gửi: {NAME} - {PHONE} - {ADDR} {street}, {ward}.",
    "Xin hỏi {decree} có áp dụng cho hộ kinh doanh ở {ward} không?",
    "Tôi đã chuyển {money} vào tài khoản số {ACC} của trung tâm mà chưa nhận được hóa đơn.",
    "Email liên hệ: {EMAIL}",
    "Công trình ở {ADDR} {street} thi công đến {time} đêm, rất ồn.",
    "Vợ tôi tên {NAME}, sinh ngày {DOB}, cần xác nhận cư trú để làm hồ sơ vay vốn.",
    "Lúc {time} ngày {date}, tôi thấy xe {PLATE} chở vật liệu rơi vãi trên {road}.",
    "Mẹ tôi là bà {NAME}, CCCD {CCCD}, thẻ BHYT {BHYT}, đang điều trị ở bệnh viện tỉnh.",
    "Khu vực {ward}, {district} mất điện từ {time} đến {time}, ảnh hưởng {count}.",
    "Tổ dân phố số {n}, {ward} đề nghị lắp thêm camera ở đầu {ADDR}.",
    "Tôi nộp hồ sơ theo {decree} ngày {date}, mã hồ sơ {record}, đến nay chưa có kết quả.",
    "Anh {NAME} (ĐT: {PHONE}) là người chứng kiến vụ việc.",
    "Tiktok {PROFILE} quay clip xúc phạm cán bộ phường.",
    "Số điện thoại {PHONE} liên tục gọi lừa đảo, xưng là công an {district}.",
    "Giá nước sinh hoạt tăng {pct} từ {date}, nhiều hộ ở {ward} phản đối.",
    "Hộ số {n} trong danh sách giải tỏa ở {ward} chưa được bồi thường, đó là nhà ông {NAME}, {ADDR}.",
    "Đất của gia đình tôi là thửa đất số {n}, tờ bản đồ số {n}, ở {ward}, {province}.",
]

# ---------------------------------------------------------------- templates (English, tuning part)
TUNE_EN = [
    "My name is {EN_NAME} and you can reach me at {PHONE_US} or {EMAIL}.",
    "Please call {PHONE_INTL} after 6 pm, the streetlight on my road has been broken since {date_en}.",
    "SSN {SSN} was used to open an account in my name without consent.",
    "Contact: {EMAIL}; phone {PHONE_INTL}. Date of birth: {DOB_EN}.",
    "The fee rose by {pct} in {year_en}, from $120 to $150 per month, which families cannot afford.",
    "I was born on {DOB_EN} and my passport number is {PASSPORT}.",
]

# ---------------------------------------------------------------- held-out part (not used for tuning)
HELDOUT_VI = [
    "Kính gửi UBND {ward}, tôi là {NAME}, điện thoại {PHONE}, phản ánh việc lấn chiếm lòng đường.",
    "Có người tên {NAME} dùng số {PHONE} gọi điện đe dọa gia đình tôi.",
    "Xe khách {PLATE} dừng đón trả khách sai quy định trên {road} gần {ward}.",
    "Địa chỉ: {ADDR}, {ward}, {district}, {province}. SĐT: {PHONE}.",
    "Bố tôi là ông {NAME}, năm sinh {YOB}, thương binh, chưa được nhận quà Tết.",
    "Theo {decree}, hộ nghèo được hỗ trợ {money}/tháng nhưng xã mới chi {money}.",
    "Nhờ chị {GIVEN} cán bộ {ward} kiểm tra giúp hồ sơ của tôi, số CCCD {CCCD}.",
    "STK nhận hỗ trợ: {ACC}, chủ TK {NAME}, ngân hàng BIDV.",
    "Xin phản hồi cho tôi qua {EMAIL} vì tôi hay đi làm xa.",
    "Người đàn ông ở {ADDR} nuôi chó thả rông, đã cắn {count} ở {ward}.",
    "Đoạn {road} từ km 12 đến km 15 thiếu đèn chiếu sáng, tai nạn tăng {pct}.",
    "Cấp lại thẻ BHYT {BHYT} cho con tôi là cháu {NAME}, sinh ngày {DOB}.",
    "Trang cá nhân {PROFILE} rao bán đất nền không có giấy phép ở {district}.",
    "Lịch tiếp công dân của {ward} là ngày {date}, lúc {time}, theo {decree}.",
    "Nhà bà {NAME} ở {ADDR} {street} bị nứt tường do công trình bên cạnh.",
    "Biển số {PLATE}, tài xế xưng tên {GIVEN}, thu tiền sai {money}.",
    "Ai có thông tin về xe {PLATE} xin gọi {PHONE} hoặc {LANDLINE}.",
    "Số CMND cũ {CMND}, số CCCD mới {CCCD}, đề nghị cập nhật trên hệ thống VNeID.",
]

HELDOUT_EN = [
    "Reach me on {PHONE_US}; my name is {EN_NAME}.",
    "The bus with plate {PLATE} skipped the stop on {road} at {time}.",
    "Please email {EMAIL} about the noise near {road}; flat owner {EN_NAME}.",
]

# ---------------------------------------------------------------- fake values (written for the project)
NAMES = [
    "Nguyễn Văn Nam",
    "Trần Thị Mai",
    "Lê Hoàng Anh",
    "Phạm Minh Tuấn",
    "Hoàng Thị Lan",
    "Huỳnh Văn Phúc",
    "Phan Thanh Hải",
    "Vũ Thị Hồng",
    "Võ Văn Kiên",
    "Đặng Quốc Bảo",
    "Bùi Thị Thu Hà",
    "Đỗ Đức Thắng",
    "Hồ Thị Kim Liên",
    "Ngô Văn Dũng",
    "Dương Thị Ngọc",
    "Lý Văn Tài",
    "Trịnh Thị Hạnh",
    "Đoàn Minh Khôi",
    "Lương Văn Sơn",
    "Mai Thị Hoa",
    "Cao Văn Lực",
    "Lâm Thị Bích",
    "Tạ Quang Vinh",
    "Hà Thị Yến",
    "Kiều Văn Toàn",
    "Quách Thị Diệu",
    "Châu Văn Lộc",
    "Tô Thị Nhàn",
    "Đinh Công Tráng",
    "Thái Văn Hòa",
    "Nguyễn Thị Thanh Tâm",
    "Trần Đình Trọng",
    "Lê Thị Xuân",
    "Phạm Hữu Nghĩa",
    "Nguyễn Ngọc Ánh",
    "Trần Văn Hùng",
    "Võ Thị Bảy",
    "Phùng Văn Khải",
    "Giang Thị Loan",
    "Nguyễn Khắc Hiếu",
    "Lê Văn Thành",
    "Hoàng Minh Châu",
    "Phan Thị Thúy",
    "Bùi Quang Huy",
    "Đỗ Thị Phương",
]
GIVEN = ["Nam", "Mai", "Lan", "Hùng", "Hoa", "Tuấn", "Bình", "Thảo", "Dũng", "Hằng", "Tư", "Ba", "Sáu"]
EN_NAMES = ["John Smith", "Mary Johnson", "David Nguyen", "Sarah Miller", "Peter Brown"]
OFFICIALS = ["Trần Văn Bình", "Nguyễn Thị Hòa", "Lê Minh Đức"]

WARDS = [
    "phường Bến Nghé",
    "phường Bạch Mai",
    "xã Tân Phú",
    "phường 3",
    "xã Bình Hưng",
    "phường Cầu Kho",
    "phường Hòa Cường",
    "phường Trung Hòa",
    "xã Phước Kiển",
    "phường Hàng Bạc",
    "phường Võ Thị Sáu",
    "xã Nguyễn Văn Trỗi",
    "phường Phạm Ngũ Lão",
]
DISTRICTS = [
    "quận 1",
    "quận Bình Thạnh",
    "quận Hai Bà Trưng",
    "huyện Củ Chi",
    "quận Hoàn Kiếm",
    "quận Cầu Giấy",
    "thị xã Thuận An",
    "huyện Bình Chánh",
    "quận Hải Châu",
    "quận Ninh Kiều",
    "huyện Bà Rịa",
]
PROVINCES = [
    "TP. Hồ Chí Minh",
    "Hà Nội",
    "tỉnh Bình Dương",
    "Đà Nẵng",
    "tỉnh Đồng Nai",
    "Cần Thơ",
    "tỉnh Khánh Hòa",
    "tỉnh Nghệ An",
    "Hải Phòng",
    "tỉnh Lâm Đồng",
    "thành phố Hồ Chí Minh",
]
STREETS = [
    "đường Lê Lợi",
    "phố Huế",
    "đường Nguyễn Trãi",
    "đường Trần Hưng Đạo",
    "phố Bà Triệu",
    "đường Võ Văn Kiệt",
    "đường Phạm Văn Đồng",
    "đường Điện Biên Phủ",
    "phố Tôn Đức Thắng",
    "đường 3/2",
    "đường Lý Thường Kiệt",
    "đường Nguyễn Văn Cừ",
    "đường Hoàng Diệu",
    "đường 30/4",
]
ROADS = [
    "Quốc lộ 1A",
    "Quốc lộ 13",
    "tỉnh lộ 10",
    "đường 3/2",
    "đường 30/4",
    "cao tốc Trung Lương",
    "Đại lộ Thăng Long",
    "QL51",
    "đường Hồ Chí Minh",
    "đường Trường Sơn",
]
MONEY = [
    "5.000.000 đồng",
    "2,5 triệu",
    "300.000đ",
    "1,2 tỷ đồng",
    "500 nghìn",
    "200k",
    "15.000.000 VNĐ",
    "3 triệu đồng",
    "120.000 đồng",
    "45000000 đồng",
    "350000000 đồng",
    "1.500.000đ",
]
DATES = ["12/10/2026", "ngày 5/3", "15 tháng 8 năm 2025", "20-11-2025", "tháng 7/2025", "2025-06-01"]
DATES_EN = ["March 3, 2025", "12/10/2025", "last Monday", "2025-06-01"]
DECREES = [
    "Nghị định 123/2024/NĐ-CP",
    "Quyết định số 1234/QĐ-UBND",
    "Thông tư 12/2023/TT-BYT",
    "Công văn số 567/UBND-KT",
    "Nghị định 100/2019/NĐ-CP",
    "Luật Đất đai 2024",
    "Quyết định 2045/QĐ-UBND ngày 12/10/2024",
    "Nghị quyết 42/2017/QH14",
]
HOTLINES = ["1900 1234", "1800 1091", "1022", "113", "115", "1900.6060", "18001091", "1800 599 920"]
TIMES = ["22 giờ", "7h30", "23:45", "6h sáng", "2 giờ sáng", "21h15"]
PCTS = ["30%", "12,5%", "gần 80 %", "15 phần trăm"]
COUNTS = ["hơn 200 hộ dân", "3 tháng", "15 ngày", "2 tuần", "khoảng 50 người", "1.200 hộ"]
RECORDS = ["H29.22-240512-0001", "000.00.12.H29-240512-0001", "HS-2025-004512"]

MOBILE_PREFIXES = [
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "086",
    "088",
    "032",
    "035",
    "038",
    "070",
    "076",
    "077",
    "079",
    "081",
    "083",
    "085",
    "056",
    "058",
    "099",
]
AREA_CODES = ["024", "028", "0236", "0225", "0292", "0251", "0274", "0258", "0238", "0263"]
EMAIL_USERS = ["nguyenvannam1985", "mai.tran", "hung_le", "thu.ha.92", "phamtuan", "lananh.hoang"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com.vn", "outlook.com", "hcm.vnn.vn", "fpt.vn", "example.org"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def phone(rng: random.Random) -> str:
    """A Vietnamese mobile number in one of its usual writings."""
    d = rng.choice(MOBILE_PREFIXES) + _digits(rng, 7)
    local = d[1:]
    forms = [
        d,
        f"{d[:4]} {d[4:7]} {d[7:]}",
        f"{d[:4]}.{d[4:7]}.{d[7:]}",
        f"{d[:4]}-{d[4:7]}-{d[7:]}",
        f"+84 {local[:3]} {local[3:6]} {local[6:]}",
        f"+84{local}",
        f"84{local}",
        f"(+84) {local}",
        f"{d[:3]} {d[3:6]} {d[6:]}",
        f"{d[:4]} {d[4:]}",
    ]
    return rng.choice(forms)


def landline(rng: random.Random) -> str:
    """A Vietnamese landline (area code + subscriber number, 11 digits in all)."""
    area = rng.choice(AREA_CODES)
    sub = rng.choice("23456") + _digits(rng, 10 - len(area))
    forms = [
        f"({area}) {sub[:4]} {sub[4:]}",
        f"{area} {sub[:4]} {sub[4:]}",
        f"{area}.{sub[:4]}.{sub[4:]}",
        f"{area}{sub}",
        f"+84 {area[1:]} {sub[:4]} {sub[4:]}",
    ]
    return rng.choice(forms)


def cccd(rng: random.Random) -> str:
    """A 12-digit citizen identity number (province code, century/sex digit, year, serial)."""
    d = "0" + f"{rng.randint(1, 96):02d}" + rng.choice("0123") + _digits(rng, 8)
    return d if rng.random() < 0.8 else f"{d[:3]} {d[3:6]} {d[6:9]} {d[9:]}"


def plate(rng: random.Random) -> str:
    """A Vietnamese licence plate in one of its usual writings."""
    p = f"{rng.randint(11, 99)}"
    letter = rng.choice("ABCDEFGHKLMNPSTUVX")
    n5 = _digits(rng, 5)
    forms = [
        f"{p}{letter}-{n5[:3]}.{n5[3:]}",
        f"{p}{letter}-{n5}",
        f"{p}{letter} {n5[:3]}.{n5[3:]}",
        f"{p}-{letter}{rng.randint(1, 9)} {n5[:3]}.{n5[3:]}",
        f"{p}{letter}{n5}",
        f"{p}{letter}{rng.randint(1, 9)}-{n5[:3]}.{n5[3:]}",
        f"{p}{letter}{rng.randint(1, 9)} {n5}",
    ]
    return rng.choice(forms)


def address(rng: random.Random) -> str:
    """The house-level part of an address (house number, alley, lane)."""
    a, b, c = rng.randint(1, 200), rng.randint(1, 150), rng.randint(1, 40)
    forms = [
        f"số {a} ngõ {b}",
        f"{a}/{c} hẻm {b}",
        f"số {c}, ngách {c}/{b}",
        f"ngõ {b}",
        f"kiệt {b}",
        f"số {a}A",
        f"số nhà {a}",
        f"số {c} ngách {c}/{b} ngõ {a}",
        f"hẻm {a}/{c}",
        f"kiệt {b}/{c}",
        f"nhà số {c}, ngõ {b}",
        f"{a}/{b}/{c}",
    ]
    return rng.choice(forms)


def dob(rng: random.Random) -> str:
    """A date of birth as Vietnamese forms write it."""
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2010)
    forms = [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}", f"{d:02d}-{m:02d}-{y}", f"{d} tháng {m} năm {y}"]
    return rng.choice(forms)


def dob_en(rng: random.Random) -> str:
    """A date of birth as English forms write it."""
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2010)
    months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d} {months[m - 1]} {y}", f"{months[m - 1]} {d}, {y}"])


def intl_phone(rng: random.Random) -> str:
    """A phone number with an international prefix."""
    return rng.choice(
        [
            f"+1 (555) {_digits(rng, 3)}-{_digits(rng, 4)}",
            f"+44 20 {_digits(rng, 4)} {_digits(rng, 4)}",
            f"+33 1 {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}",
            f"+61 2 {_digits(rng, 4)} {_digits(rng, 4)}",
            f"+82 10-{_digits(rng, 4)}-{_digits(rng, 4)}",
            f"+1-202-{_digits(rng, 3)}-{_digits(rng, 4)}",
        ]
    )


def us_phone(rng: random.Random) -> str:
    """A North American number without the country code."""
    a, b = _digits(rng, 3), _digits(rng, 4)
    return rng.choice([f"(555) {a}-{b}", f"555-{a}-{b}", f"555.{a}.{b}"])


def profile(rng: random.Random) -> str:
    """A social-media profile link."""
    user = rng.choice(["nam.nguyen.123", "maitran88", "hoangvu_99", "lan.pham", "thu.ha.official"])
    return rng.choice(
        [
            f"facebook.com/{user}",
            f"https://www.facebook.com/{user}",
            f"https://www.facebook.com/profile.php?id=1000{_digits(rng, 11)}",
            f"fb.com/{user}",
            f"zalo.me/{rng.choice(MOBILE_PREFIXES)}{_digits(rng, 7)}",
            f"https://tiktok.com/@{user}",
            f"m.facebook.com/{user}",
            f"tiktok.com/@{user}",
        ]
    )


def fill(slot: str, rng: random.Random) -> str:
    """A fake value for one slot."""
    makers = {
        "PHONE": phone,
        "LANDLINE": landline,
        "PHONE_INTL": intl_phone,
        "PHONE_US": us_phone,
        "CCCD": cccd,
        "PLATE": plate,
        "ADDR": address,
        "DOB": dob,
        "DOB_EN": dob_en,
        "PROFILE": profile,
    }
    if slot in makers:
        return makers[slot](rng)
    simple = {
        "CMND": lambda: rng.choice("0123") + _digits(rng, 8),
        "PASSPORT": lambda: rng.choice("BCNP") + _digits(rng, 7),
        "SSN": lambda: f"{rng.randint(100, 899)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
        "BHYT": lambda: (
            rng.choice(["DN", "HC", "GD", "TE", "HT", "CN"]) + rng.choice("1234") + _digits(rng, 12)
        ),
        "BHXH": lambda: rng.choice("0123456789") + _digits(rng, 9),
        "ACC": lambda: rng.choice(
            [
                _digits(rng, 13),
                "1903" + _digits(rng, 10),
                _digits(rng, 9),
                f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
            ]
        ),
        "EMAIL": lambda: f"{rng.choice(EMAIL_USERS)}@{rng.choice(EMAIL_DOMAINS)}",
        "HOUSENO": lambda: f"{rng.randint(1, 300)}",
        "NAME": lambda: rng.choice(NAMES),
        "GIVEN": lambda: rng.choice(GIVEN),
        "EN_NAME": lambda: rng.choice(EN_NAMES),
        "YOB": lambda: str(rng.randint(1940, 2005)),
        "official": lambda: rng.choice(OFFICIALS),
        "ward": lambda: rng.choice(WARDS),
        "district": lambda: rng.choice(DISTRICTS),
        "province": lambda: rng.choice(PROVINCES),
        "street": lambda: rng.choice(STREETS),
        "road": lambda: rng.choice(ROADS),
        "money": lambda: rng.choice(MONEY),
        "date": lambda: rng.choice(DATES),
        "date_en": lambda: rng.choice(DATES_EN),
        "decree": lambda: rng.choice(DECREES),
        "hotline": lambda: rng.choice(HOTLINES),
        "time": lambda: rng.choice(TIMES),
        "pct": lambda: rng.choice(PCTS),
        "count": lambda: rng.choice(COUNTS),
        "record": lambda: rng.choice(RECORDS),
        "year": lambda: str(rng.randint(1995, 2024)),
        "year_en": lambda: str(rng.randint(2015, 2025)),
        "month": lambda: str(rng.randint(1, 12)),
        "n": lambda: str(rng.randint(1, 300)),
    }
    return simple[slot]()


def strip_marks(text: str) -> str:
    """Vietnamese without diacritics, one character for one (offsets stay valid)."""
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("d" if ch == "đ" else "D")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base)
    return "".join(out)


SLOT = re.compile(r"\{([A-Za-z_]+)\}")


def render(template: str, rng: random.Random, lower_names: bool) -> tuple[str, list[dict]]:
    """One sentence from a template, with the gold spans of its personal data."""
    return render_with(template, rng, lower_names, fill, SLOT_TYPE, ("NAME", "GIVEN"))


def render_with(
    template: str,
    rng: random.Random,
    lower_names: bool,
    filler: Callable[[str, random.Random], str],
    slot_type: Mapping[str, str],
    name_slots: tuple[str, ...],
) -> tuple[str, list[dict]]:
    """``render`` with another set's slot filler, span types and name slots (lower-cased on demand)."""
    parts: list[str] = []
    spans: list[dict] = []
    pos = 0
    length = 0
    for match in SLOT.finditer(template):
        literal = template[pos : match.start()]
        parts.append(literal)
        length += len(literal)
        slot = match.group(1)
        value = filler(slot, rng)
        if slot in name_slots and lower_names:
            value = value.lower()
        if slot in slot_type:
            spans.append({"type": slot_type[slot], "start": length, "end": length + len(value)})
        parts.append(value)
        length += len(value)
        pos = match.end()
    parts.append(template[pos:])
    return "".join(parts), spans


def build() -> list[dict]:
    """Every gold record, in a fixed order."""
    rng = random.Random(SEED)
    records: list[dict] = []
    groups = [
        ("tune", "vi", TUNE_VI),
        ("tune", "en", TUNE_EN),
        ("heldout", "vi", HELDOUT_VI),
        ("heldout", "en", HELDOUT_EN),
    ]
    for split, language, templates in groups:
        for index, template in enumerate(templates):
            for _ in range(PER_TEMPLATE):
                plain = language == "vi" and rng.random() < 0.34
                lower = rng.random() < (0.5 if plain else 0.1)
                text, spans = render(template, rng, lower_names=lower)
                if plain:
                    text = strip_marks(text)
                records.append(
                    {
                        "text": text,
                        "spans": spans,
                        "language": language,
                        "diacritics": not plain,
                        "split": split,
                        "template": f"{split}-{language}-{index:02d}",
                    }
                )
    return records


def main() -> None:
    """Write the gold file."""
    records = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    templates = {r["template"] for r in records}
    print(f"wrote {len(records)} sentences from {len(templates)} templates to {OUT}")


if __name__ == "__main__":
    main()
