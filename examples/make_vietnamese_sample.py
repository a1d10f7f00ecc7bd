"""Generate ``vietnamese_submissions.jsonl``, the illustrative Vietnamese demo feed, and
``vietnamese_history.jsonl``, its everyday submissions of the year before.

Every text below was written for the CivicPulse project. The people, phone numbers, ID
numbers, e-mail addresses, licence plates and house numbers are invented (randomly
generated, e-mail domains are the reserved ``example.*`` ones); only the names of the
administrative units are real. The ward / commune names are the post-2025-07-01 units,
taken from the address mapping shipped with ``underthesea`` (``underthesea/address/
data/mapping.json``, source ``vietnamadminunits`` 1.0.4), copied into ``LOCALITIES``
below so that this script needs only the standard library.

The script is deterministic: ``random.Random(20261122)`` (``20251119`` for the year before)
drives every choice, so re-running it reproduces both files byte for byte.

Usage::

    python examples/make_vietnamese_sample.py            # writes next to this script
    python examples/make_vietnamese_sample.py --out x.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 20261122
N_ROWS = 600
TZ = timezone(timedelta(hours=7))
FIRST_DAY = date(2026, 8, 20)
LAST_DAY = date(2026, 11, 18)
OUT_PATH = Path(__file__).resolve().parent / "vietnamese_submissions.jsonl"
# The year before: everyday submissions only, so that trends and forecasts have a history.
HISTORY_SEED = 20251119
HISTORY_FIRST_DAY = LAST_DAY - timedelta(days=364)
HISTORY_PATH = Path(__file__).resolve().parent / "vietnamese_history.jsonl"
# Tết: offices close for the official holiday, and fewer people write (Ất Tỵ 2025, Bính Ngọ 2026).
TET_HOLIDAYS = ((date(2025, 1, 25), date(2025, 2, 2)), (date(2026, 2, 14), date(2026, 2, 22)))

# ---------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------

# (new ward/commune, new province, main pre-2025 district, pre-2025 province)
LOCALITIES: tuple[tuple[str, str, str, str], ...] = (
    ("Phường Ninh Kiều", "Thành phố Cần Thơ", "Quận Ninh Kiều", "Thành phố Cần Thơ"),
    ("Phường Cái Răng", "Thành phố Cần Thơ", "Quận Cái Răng", "Thành phố Cần Thơ"),
    ("Xã Kế Sách", "Thành phố Cần Thơ", "Huyện Kế Sách", "Tỉnh Sóc Trăng"),
    ("Phường Thới Long", "Thành phố Cần Thơ", "Quận Ô Môn", "Thành phố Cần Thơ"),
    ("Xã Ngọc Tố", "Thành phố Cần Thơ", "Huyện Mỹ Xuyên", "Tỉnh Sóc Trăng"),
    ("Xã Vĩnh Hải", "Thành phố Cần Thơ", "Thị xã Vĩnh Châu", "Tỉnh Sóc Trăng"),
    ("Phường Thuận Hóa", "Thành phố Huế", "Quận Thuận Hóa", "Thành phố Huế"),
    ("Phường Phú Xuân", "Thành phố Huế", "Quận Phú Xuân", "Thành phố Huế"),
    ("Phường Hương An", "Thành phố Huế", "Quận Phú Xuân", "Thành phố Huế"),
    ("Phường Hương Trà", "Thành phố Huế", "Thị xã Hương Trà", "Thành phố Huế"),
    ("Xã Vinh Lộc", "Thành phố Huế", "Huyện Phú Lộc", "Thành phố Huế"),
    ("Phường Hoàn Kiếm", "Thành phố Hà Nội", "Quận Hoàn Kiếm", "Thành phố Hà Nội"),
    ("Phường Ba Đình", "Thành phố Hà Nội", "Quận Ba Đình", "Thành phố Hà Nội"),
    ("Phường Cầu Giấy", "Thành phố Hà Nội", "Quận Cầu Giấy", "Thành phố Hà Nội"),
    ("Phường Đống Đa", "Thành phố Hà Nội", "Quận Đống Đa", "Thành phố Hà Nội"),
    ("Phường Thanh Xuân", "Thành phố Hà Nội", "Quận Thanh Xuân", "Thành phố Hà Nội"),
    ("Phường Khương Đình", "Thành phố Hà Nội", "Quận Thanh Xuân", "Thành phố Hà Nội"),
    ("Phường Hoàng Mai", "Thành phố Hà Nội", "Quận Hoàng Mai", "Thành phố Hà Nội"),
    ("Phường Định Công", "Thành phố Hà Nội", "Quận Hoàng Mai", "Thành phố Hà Nội"),
    ("Phường Hà Đông", "Thành phố Hà Nội", "Quận Hà Đông", "Thành phố Hà Nội"),
    ("Phường Kiến Hưng", "Thành phố Hà Nội", "Quận Hà Đông", "Thành phố Hà Nội"),
    ("Phường Long Biên", "Thành phố Hà Nội", "Quận Long Biên", "Thành phố Hà Nội"),
    ("Xã Gia Lâm", "Thành phố Hà Nội", "Huyện Gia Lâm", "Thành phố Hà Nội"),
    ("Xã Đông Anh", "Thành phố Hà Nội", "Huyện Đông Anh", "Thành phố Hà Nội"),
    ("Phường Chương Mỹ", "Thành phố Hà Nội", "Huyện Chương Mỹ", "Thành phố Hà Nội"),
    ("Xã Ba Vì", "Thành phố Hà Nội", "Huyện Ba Vì", "Thành phố Hà Nội"),
    ("Phường Sơn Tây", "Thành phố Hà Nội", "Thị xã Sơn Tây", "Thành phố Hà Nội"),
    ("Phường Hồng Bàng", "Thành phố Hải Phòng", "Quận Hồng Bàng", "Thành phố Hải Phòng"),
    ("Phường Lê Chân", "Thành phố Hải Phòng", "Quận Lê Chân", "Thành phố Hải Phòng"),
    ("Phường Hải Dương", "Thành phố Hải Phòng", "Thành phố Hải Dương", "Tỉnh Hải Dương"),
    ("Phường Hải An", "Thành phố Hải Phòng", "Quận Hải An", "Thành phố Hải Phòng"),
    ("Xã An Thành", "Thành phố Hải Phòng", "Huyện Kim Thành", "Tỉnh Hải Dương"),
    ("Xã Nghi Dương", "Thành phố Hải Phòng", "Huyện Kiến Thụy", "Thành phố Hải Phòng"),
    ("Phường Bến Thành", "Thành phố Hồ Chí Minh", "Quận 1", "Thành phố Hồ Chí Minh"),
    ("Phường Sài Gòn", "Thành phố Hồ Chí Minh", "Quận 1", "Thành phố Hồ Chí Minh"),
    ("Phường Bàn Cờ", "Thành phố Hồ Chí Minh", "Quận 3", "Thành phố Hồ Chí Minh"),
    ("Phường Gò Vấp", "Thành phố Hồ Chí Minh", "Quận Gò Vấp", "Thành phố Hồ Chí Minh"),
    ("Phường Bình Thạnh", "Thành phố Hồ Chí Minh", "Quận Bình Thạnh", "Thành phố Hồ Chí Minh"),
    ("Phường Thủ Đức", "Thành phố Hồ Chí Minh", "Thành phố Thủ Đức", "Thành phố Hồ Chí Minh"),
    ("Phường Tân Bình", "Thành phố Hồ Chí Minh", "Quận Tân Bình", "Thành phố Hồ Chí Minh"),
    ("Phường Chợ Lớn", "Thành phố Hồ Chí Minh", "Quận 5", "Thành phố Hồ Chí Minh"),
    ("Phường Tân Hưng", "Thành phố Hồ Chí Minh", "Quận 7", "Thành phố Hồ Chí Minh"),
    ("Phường Bình Tân", "Thành phố Hồ Chí Minh", "Quận Bình Tân", "Thành phố Hồ Chí Minh"),
    ("Phường Thủ Dầu Một", "Thành phố Hồ Chí Minh", "Thành phố Thủ Dầu Một", "Tỉnh Bình Dương"),
    ("Phường Dĩ An", "Thành phố Hồ Chí Minh", "Thành phố Dĩ An", "Tỉnh Bình Dương"),
    ("Phường Tam Thắng", "Thành phố Hồ Chí Minh", "Thành phố Vũng Tàu", "Tỉnh Bà Rịa - Vũng Tàu"),
    ("Phường Bà Rịa", "Thành phố Hồ Chí Minh", "Thành phố Bà Rịa", "Tỉnh Bà Rịa - Vũng Tàu"),
    ("Phường Hải Châu", "Thành phố Đà Nẵng", "Quận Hải Châu", "Thành phố Đà Nẵng"),
    ("Phường An Hải", "Thành phố Đà Nẵng", "Quận Sơn Trà", "Thành phố Đà Nẵng"),
    ("Phường Cẩm Lệ", "Thành phố Đà Nẵng", "Quận Cẩm Lệ", "Thành phố Đà Nẵng"),
    ("Phường Hải Vân", "Thành phố Đà Nẵng", "Quận Liên Chiểu", "Thành phố Đà Nẵng"),
    ("Xã Thượng Đức", "Thành phố Đà Nẵng", "Huyện Đại Lộc", "Tỉnh Quảng Nam"),
    ("Xã Hiệp Đức", "Thành phố Đà Nẵng", "Huyện Hiệp Đức", "Tỉnh Quảng Nam"),
    ("Phường Long Xuyên", "Tỉnh An Giang", "Thành phố Long Xuyên", "Tỉnh An Giang"),
    ("Phường Rạch Giá", "Tỉnh An Giang", "Thành phố Rạch Giá", "Tỉnh Kiên Giang"),
    ("Phường Long Phú", "Tỉnh An Giang", "Thị xã Tân Châu", "Tỉnh An Giang"),
    ("Xã An Biên", "Tỉnh An Giang", "Huyện An Biên", "Tỉnh Kiên Giang"),
    ("Xã Phú Lâm", "Tỉnh An Giang", "Huyện Phú Tân", "Tỉnh An Giang"),
    ("Xã Phù Lãng", "Tỉnh Bắc Ninh", "Thị xã Quế Võ", "Tỉnh Bắc Ninh"),
    ("Phường Kinh Bắc", "Tỉnh Bắc Ninh", "Thành phố Bắc Ninh", "Tỉnh Bắc Ninh"),
    ("Phường Bắc Giang", "Tỉnh Bắc Ninh", "Thành phố Bắc Giang", "Tỉnh Bắc Giang"),
    ("Phường Từ Sơn", "Tỉnh Bắc Ninh", "Thành phố Từ Sơn", "Tỉnh Bắc Ninh"),
    ("Xã Lục Ngạn", "Tỉnh Bắc Ninh", "Huyện Lục Ngạn", "Tỉnh Bắc Giang"),
    ("Phường Thục Phán", "Tỉnh Cao Bằng", "Thành phố Cao Bằng", "Tỉnh Cao Bằng"),
    ("Xã Nguyên Bình", "Tỉnh Cao Bằng", "Huyện Nguyên Bình", "Tỉnh Cao Bằng"),
    ("Xã Bảo Lạc", "Tỉnh Cao Bằng", "Huyện Bảo Lạc", "Tỉnh Cao Bằng"),
    ("Xã Hạnh Phúc", "Tỉnh Cao Bằng", "Huyện Quảng Hòa", "Tỉnh Cao Bằng"),
    ("Xã Ca Thành", "Tỉnh Cao Bằng", "Huyện Nguyên Bình", "Tỉnh Cao Bằng"),
    ("Phường Tân Thành", "Tỉnh Cà Mau", "Thành phố Cà Mau", "Tỉnh Cà Mau"),
    ("Phường Bạc Liêu", "Tỉnh Cà Mau", "Thành phố Bạc Liêu", "Tỉnh Bạc Liêu"),
    ("Xã Quách Phẩm", "Tỉnh Cà Mau", "Huyện Đầm Dơi", "Tỉnh Cà Mau"),
    ("Xã Ninh Thạnh Lợi", "Tỉnh Cà Mau", "Huyện Hồng Dân", "Tỉnh Bạc Liêu"),
    ("Phường Hòa Thành", "Tỉnh Cà Mau", "Thành phố Cà Mau", "Tỉnh Cà Mau"),
    ("Phường Pleiku", "Tỉnh Gia Lai", "Thành phố Pleiku", "Tỉnh Gia Lai"),
    ("Phường Quy Nhơn", "Tỉnh Gia Lai", "Thành phố Quy Nhơn", "Tỉnh Bình Định"),
    ("Xã Biển Hồ", "Tỉnh Gia Lai", "Huyện Chư Păh", "Tỉnh Gia Lai"),
    ("Xã Ia Dreh", "Tỉnh Gia Lai", "Huyện Krông Pa", "Tỉnh Gia Lai"),
    ("Phường Hoài Nhơn Đông", "Tỉnh Gia Lai", "Thị xã Hoài Nhơn", "Tỉnh Bình Định"),
    ("Phường Thành Sen", "Tỉnh Hà Tĩnh", "Thành phố Hà Tĩnh", "Tỉnh Hà Tĩnh"),
    ("Xã Tiên Điền", "Tỉnh Hà Tĩnh", "Huyện Nghi Xuân", "Tỉnh Hà Tĩnh"),
    ("Phường Trần Phú", "Tỉnh Hà Tĩnh", "Thành phố Hà Tĩnh", "Tỉnh Hà Tĩnh"),
    ("Xã Kỳ Lạc", "Tỉnh Hà Tĩnh", "Huyện Kỳ Anh", "Tỉnh Hà Tĩnh"),
    ("Phường Sông Trí", "Tỉnh Hà Tĩnh", "Thị xã Kỳ Anh", "Tỉnh Hà Tĩnh"),
    ("Phường Phố Hiến", "Tỉnh Hưng Yên", "Thành phố Hưng Yên", "Tỉnh Hưng Yên"),
    ("Phường Thái Bình", "Tỉnh Hưng Yên", "Thành phố Thái Bình", "Tỉnh Thái Bình"),
    ("Xã Triệu Việt Vương", "Tỉnh Hưng Yên", "Huyện Khoái Châu", "Tỉnh Hưng Yên"),
    ("Xã Bắc Đông Quan", "Tỉnh Hưng Yên", "Huyện Đông Hưng", "Tỉnh Thái Bình"),
    ("Xã Nam Cường", "Tỉnh Hưng Yên", "Huyện Tiền Hải", "Tỉnh Thái Bình"),
    ("Phường Nha Trang", "Tỉnh Khánh Hòa", "Thành phố Nha Trang", "Tỉnh Khánh Hòa"),
    ("Phường Phan Rang", "Tỉnh Khánh Hòa", "Thành phố Phan Rang - Tháp Chàm", "Tỉnh Ninh Thuận"),
    ("Xã Diên Lâm", "Tỉnh Khánh Hòa", "Huyện Diên Khánh", "Tỉnh Khánh Hòa"),
    ("Phường Ninh Hòa", "Tỉnh Khánh Hòa", "Thị xã Ninh Hòa", "Tỉnh Khánh Hòa"),
    ("Xã Nam Khánh Vĩnh", "Tỉnh Khánh Hòa", "Huyện Khánh Vĩnh", "Tỉnh Khánh Hòa"),
    ("Phường Tân Phong", "Tỉnh Lai Châu", "Thành phố Lai Châu", "Tỉnh Lai Châu"),
    ("Xã Hồng Thu", "Tỉnh Lai Châu", "Huyện Sìn Hồ", "Tỉnh Lai Châu"),
    ("Xã Nậm Mạ", "Tỉnh Lai Châu", "Huyện Sìn Hồ", "Tỉnh Lai Châu"),
    ("Xã Mù Cả", "Tỉnh Lai Châu", "Huyện Mường Tè", "Tỉnh Lai Châu"),
    ("Xã Hua Bum", "Tỉnh Lai Châu", "Huyện Mường Tè", "Tỉnh Lai Châu"),
    ("Phường Lào Cai", "Tỉnh Lào Cai", "Thành phố Lào Cai", "Tỉnh Lào Cai"),
    ("Phường Yên Bái", "Tỉnh Lào Cai", "Thành phố Yên Bái", "Tỉnh Yên Bái"),
    ("Xã Thượng Hà", "Tỉnh Lào Cai", "Huyện Bảo Yên", "Tỉnh Lào Cai"),
    ("Xã Thượng Bằng La", "Tỉnh Lào Cai", "Huyện Văn Chấn", "Tỉnh Yên Bái"),
    ("Xã Tả Phìn", "Tỉnh Lào Cai", "Thị xã Sa Pa", "Tỉnh Lào Cai"),
    ("Phường Xuân Hương - Đà Lạt", "Tỉnh Lâm Đồng", "Thành phố Đà Lạt", "Tỉnh Lâm Đồng"),
    ("Phường Phan Thiết", "Tỉnh Lâm Đồng", "Thành phố Phan Thiết", "Tỉnh Bình Thuận"),
    ("Phường Bắc Gia Nghĩa", "Tỉnh Lâm Đồng", "Thành phố Gia Nghĩa", "Tỉnh Đắk Nông"),
    ("Xã Bắc Ruộng", "Tỉnh Lâm Đồng", "Huyện Tánh Linh", "Tỉnh Bình Thuận"),
    ("Xã Kiến Đức", "Tỉnh Lâm Đồng", "Huyện Đắk R'Lấp", "Tỉnh Đắk Nông"),
    ("Phường Lương Văn Tri", "Tỉnh Lạng Sơn", "Thành phố Lạng Sơn", "Tỉnh Lạng Sơn"),
    ("Xã Bằng Mạc", "Tỉnh Lạng Sơn", "Huyện Chi Lăng", "Tỉnh Lạng Sơn"),
    ("Xã Thiện Long", "Tỉnh Lạng Sơn", "Huyện Bình Gia", "Tỉnh Lạng Sơn"),
    ("Xã Tân Tri", "Tỉnh Lạng Sơn", "Huyện Bắc Sơn", "Tỉnh Lạng Sơn"),
    ("Xã Bình Gia", "Tỉnh Lạng Sơn", "Huyện Bình Gia", "Tỉnh Lạng Sơn"),
    ("Phường Thành Vinh", "Tỉnh Nghệ An", "Thành phố Vinh", "Tỉnh Nghệ An"),
    ("Xã Bích Hào", "Tỉnh Nghệ An", "Huyện Thanh Chương", "Tỉnh Nghệ An"),
    ("Xã Mường Ham", "Tỉnh Nghệ An", "Huyện Quỳ Hợp", "Tỉnh Nghệ An"),
    ("Xã Nghĩa Hành", "Tỉnh Nghệ An", "Huyện Tân Kỳ", "Tỉnh Nghệ An"),
    ("Xã Quỳnh Văn", "Tỉnh Nghệ An", "Huyện Quỳnh Lưu", "Tỉnh Nghệ An"),
    ("Phường Hoa Lư", "Tỉnh Ninh Bình", "Thành phố Hoa Lư", "Tỉnh Ninh Bình"),
    ("Phường Nam Định", "Tỉnh Ninh Bình", "Thành phố Nam Định", "Tỉnh Nam Định"),
    ("Phường Phủ Lý", "Tỉnh Ninh Bình", "Thành phố Phủ Lý", "Tỉnh Hà Nam"),
    ("Xã Kim Sơn", "Tỉnh Ninh Bình", "Huyện Kim Sơn", "Tỉnh Ninh Bình"),
    ("Xã Hiển Khánh", "Tỉnh Ninh Bình", "Huyện Vụ Bản", "Tỉnh Nam Định"),
    ("Phường Việt Trì", "Tỉnh Phú Thọ", "Thành phố Việt Trì", "Tỉnh Phú Thọ"),
    ("Phường Vĩnh Yên", "Tỉnh Phú Thọ", "Thành phố Vĩnh Yên", "Tỉnh Vĩnh Phúc"),
    ("Phường Hòa Bình", "Tỉnh Phú Thọ", "Thành phố Hòa Bình", "Tỉnh Hòa Bình"),
    ("Xã Sơn Đông", "Tỉnh Phú Thọ", "Huyện Lập Thạch", "Tỉnh Vĩnh Phúc"),
    ("Xã Vĩnh Thành", "Tỉnh Phú Thọ", "Huyện Vĩnh Tường", "Tỉnh Vĩnh Phúc"),
    ("Phường Cẩm Thành", "Tỉnh Quảng Ngãi", "Thành phố Quảng Ngãi", "Tỉnh Quảng Ngãi"),
    ("Phường Kon Tum", "Tỉnh Quảng Ngãi", "Thành phố Kon Tum", "Tỉnh Kon Tum"),
    ("Xã Đăk Kôi", "Tỉnh Quảng Ngãi", "Huyện Kon Rẫy", "Tỉnh Kon Tum"),
    ("Xã Trà Bồng", "Tỉnh Quảng Ngãi", "Huyện Trà Bồng", "Tỉnh Quảng Ngãi"),
    ("Xã Sa Thầy", "Tỉnh Quảng Ngãi", "Huyện Sa Thầy", "Tỉnh Kon Tum"),
    ("Phường Hạ Long", "Tỉnh Quảng Ninh", "Thành phố Hạ Long", "Tỉnh Quảng Ninh"),
    ("Phường Móng Cái 1", "Tỉnh Quảng Ninh", "Thành phố Móng Cái", "Tỉnh Quảng Ninh"),
    ("Phường Quang Hanh", "Tỉnh Quảng Ninh", "Thành phố Cẩm Phả", "Tỉnh Quảng Ninh"),
    ("Phường Móng Cái 3", "Tỉnh Quảng Ninh", "Thành phố Móng Cái", "Tỉnh Quảng Ninh"),
    ("Phường Hà Tu", "Tỉnh Quảng Ninh", "Thành phố Hạ Long", "Tỉnh Quảng Ninh"),
    ("Phường Đồng Hới", "Tỉnh Quảng Trị", "Thành Phố Đồng Hới", "Tỉnh Quảng Bình"),
    ("Phường Đông Hà", "Tỉnh Quảng Trị", "Thành phố Đông Hà", "Tỉnh Quảng Trị"),
    ("Phường Quảng Trị", "Tỉnh Quảng Trị", "Thị xã Quảng Trị", "Tỉnh Quảng Trị"),
    ("Xã Lệ Thủy", "Tỉnh Quảng Trị", "Huyện Lệ Thủy", "Tỉnh Quảng Bình"),
    ("Xã Hải Lăng", "Tỉnh Quảng Trị", "Huyện Hải Lăng", "Tỉnh Quảng Trị"),
    ("Xã Triệu Phong", "Tỉnh Quảng Trị", "Huyện Triệu Phong", "Tỉnh Quảng Trị"),
    ("Xã Tân Mỹ", "Tỉnh Quảng Trị", "Huyện Lệ Thủy", "Tỉnh Quảng Bình"),
    ("Xã Kim Ngân", "Tỉnh Quảng Trị", "Huyện Lệ Thủy", "Tỉnh Quảng Bình"),
    ("Xã Cam Hồng", "Tỉnh Quảng Trị", "Huyện Lệ Thủy", "Tỉnh Quảng Bình"),
    ("Xã Vĩnh Định", "Tỉnh Quảng Trị", "Huyện Hải Lăng", "Tỉnh Quảng Trị"),
    ("Phường Ba Đồn", "Tỉnh Quảng Trị", "Thị xã Ba Đồn", "Tỉnh Quảng Bình"),
    ("Xã Tuyên Hóa", "Tỉnh Quảng Trị", "Huyện Tuyên Hóa", "Tỉnh Quảng Bình"),
    ("Phường Tô Hiệu", "Tỉnh Sơn La", "Thành phố Sơn La", "Tỉnh Sơn La"),
    ("Xã Mường Bang", "Tỉnh Sơn La", "Huyện Phù Yên", "Tỉnh Sơn La"),
    ("Xã Chiềng Hoa", "Tỉnh Sơn La", "Huyện Mường La", "Tỉnh Sơn La"),
    ("Xã Mường La", "Tỉnh Sơn La", "Huyện Mường La", "Tỉnh Sơn La"),
    ("Xã Xím Vàng", "Tỉnh Sơn La", "Huyện Bắc Yên", "Tỉnh Sơn La"),
    ("Phường Hạc Thành", "Tỉnh Thanh Hóa", "Thành phố Thanh Hóa", "Tỉnh Thanh Hóa"),
    ("Phường Sầm Sơn", "Tỉnh Thanh Hóa", "Thành phố Sầm Sơn", "Tỉnh Thanh Hóa"),
    ("Xã Trung Thành", "Tỉnh Thanh Hóa", "Huyện Quan Hóa", "Tỉnh Thanh Hóa"),
    ("Xã Quảng Yên", "Tỉnh Thanh Hóa", "Huyện Quảng Xương", "Tỉnh Thanh Hóa"),
    ("Xã Thọ Lập", "Tỉnh Thanh Hóa", "Huyện Thọ Xuân", "Tỉnh Thanh Hóa"),
    ("Phường Phan Đình Phùng", "Tỉnh Thái Nguyên", "Thành phố Thái Nguyên", "Tỉnh Thái Nguyên"),
    ("Phường Bắc Kạn", "Tỉnh Thái Nguyên", "Thành Phố Bắc Kạn", "Tỉnh Bắc Kạn"),
    ("Xã Nam Cường", "Tỉnh Thái Nguyên", "Huyện Chợ Đồn", "Tỉnh Bắc Kạn"),
    ("Xã Yên Phong", "Tỉnh Thái Nguyên", "Huyện Chợ Đồn", "Tỉnh Bắc Kạn"),
    ("Phường Trung Thành", "Tỉnh Thái Nguyên", "Thành phố Phổ Yên", "Tỉnh Thái Nguyên"),
    ("Phường Minh Xuân", "Tỉnh Tuyên Quang", "Thành phố Tuyên Quang", "Tỉnh Tuyên Quang"),
    ("Phường Hà Giang 1", "Tỉnh Tuyên Quang", "Thành phố Hà Giang", "Tỉnh Hà Giang"),
    ("Xã Bằng Lang", "Tỉnh Tuyên Quang", "Huyện Quang Bình", "Tỉnh Hà Giang"),
    ("Xã Quản Bạ", "Tỉnh Tuyên Quang", "Huyện Quản Bạ", "Tỉnh Hà Giang"),
    ("Xã Nhữ Khê", "Tỉnh Tuyên Quang", "Huyện Yên Sơn", "Tỉnh Tuyên Quang"),
    ("Phường Tân Ninh", "Tỉnh Tây Ninh", "Thành phố Tây Ninh", "Tỉnh Tây Ninh"),
    ("Phường Long An", "Tỉnh Tây Ninh", "Thành phố Tân An", "Tỉnh Long An"),
    ("Xã Cần Giuộc", "Tỉnh Tây Ninh", "Huyện Cần Giuộc", "Tỉnh Long An"),
    ("Xã Mỹ Lộc", "Tỉnh Tây Ninh", "Huyện Cần Giuộc", "Tỉnh Long An"),
    ("Xã Bến Lức", "Tỉnh Tây Ninh", "Huyện Bến Lức", "Tỉnh Long An"),
    ("Phường Thanh Đức", "Tỉnh Vĩnh Long", "Thành phố Vĩnh Long", "Tỉnh Vĩnh Long"),
    ("Phường Bến Tre", "Tỉnh Vĩnh Long", "Thành phố Bến Tre", "Tỉnh Bến Tre"),
    ("Phường Trà Vinh", "Tỉnh Vĩnh Long", "Thành phố Trà Vinh", "Tỉnh Trà Vinh"),
    ("Xã Đồng Khởi", "Tỉnh Vĩnh Long", "Huyện Mỏ Cày Nam", "Tỉnh Bến Tre"),
    ("Xã Mỹ Chánh Hòa", "Tỉnh Vĩnh Long", "Huyện Ba Tri", "Tỉnh Bến Tre"),
    ("Phường Điện Biên Phủ", "Tỉnh Điện Biên", "Thành phố Điện Biên Phủ", "Tỉnh Điện Biên"),
    ("Xã Pu Nhi", "Tỉnh Điện Biên", "Huyện Điện Biên Đông", "Tỉnh Điện Biên"),
    ("Xã Búng Lao", "Tỉnh Điện Biên", "Huyện Mường Ảng", "Tỉnh Điện Biên"),
    ("Xã Mường Chà", "Tỉnh Điện Biên", "Huyện Nậm Pồ", "Tỉnh Điện Biên"),
    ("Xã Thanh Yên", "Tỉnh Điện Biên", "Huyện Điện Biên", "Tỉnh Điện Biên"),
    ("Phường Buôn Ma Thuột", "Tỉnh Đắk Lắk", "Thành phố Buôn Ma Thuột", "Tỉnh Đắk Lắk"),
    ("Phường Tuy Hòa", "Tỉnh Đắk Lắk", "Thành phố Tuy Hòa", "Tỉnh Phú Yên"),
    ("Xã Pơng Drang", "Tỉnh Đắk Lắk", "Huyện Krông Búk", "Tỉnh Đắk Lắk"),
    ("Xã Ea Ning", "Tỉnh Đắk Lắk", "Huyện Cư Kuin", "Tỉnh Đắk Lắk"),
    ("Xã Ea Riêng", "Tỉnh Đắk Lắk", "Huyện M'Đrắk", "Tỉnh Đắk Lắk"),
    ("Phường Biên Hòa", "Tỉnh Đồng Nai", "Thành phố Biên Hòa", "Tỉnh Đồng Nai"),
    ("Phường Đồng Xoài", "Tỉnh Đồng Nai", "Thành phố Đồng Xoài", "Tỉnh Bình Phước"),
    ("Xã Định Quán", "Tỉnh Đồng Nai", "Huyện Định Quán", "Tỉnh Đồng Nai"),
    ("Xã Nam Cát Tiên", "Tỉnh Đồng Nai", "Huyện Tân Phú", "Tỉnh Đồng Nai"),
    ("Xã Xuân Phú", "Tỉnh Đồng Nai", "Huyện Xuân Lộc", "Tỉnh Đồng Nai"),
    ("Phường Cao Lãnh", "Tỉnh Đồng Tháp", "Thành phố Cao Lãnh", "Tỉnh Đồng Tháp"),
    ("Phường Mỹ Tho", "Tỉnh Đồng Tháp", "Thành phố Mỹ Tho", "Tỉnh Tiền Giang"),
    ("Xã Phú Thành", "Tỉnh Đồng Tháp", "Huyện Gò Công Tây", "Tỉnh Tiền Giang"),
    ("Xã Tân Dương", "Tỉnh Đồng Tháp", "Huyện Lai Vung", "Tỉnh Đồng Tháp"),
    ("Xã Ngũ Hiệp", "Tỉnh Đồng Tháp", "Huyện Cai Lậy", "Tỉnh Tiền Giang"),
)

PROVINCE_WEIGHTS: dict[str, float] = {
    "Thành phố Hồ Chí Minh": 14,
    "Thành phố Hà Nội": 12,
    "Thành phố Hải Phòng": 4,
    "Thành phố Đà Nẵng": 4,
    "Thành phố Cần Thơ": 3,
    "Thành phố Huế": 2,
    "Tỉnh Đồng Nai": 3,
    "Tỉnh Thanh Hóa": 3,
    "Tỉnh Nghệ An": 3,
    "Tỉnh Bắc Ninh": 3,
    "Tỉnh Hưng Yên": 3,
    "Tỉnh Ninh Bình": 3,
    "Tỉnh An Giang": 3,
    "Tỉnh Đồng Tháp": 3,
    "Tỉnh Vĩnh Long": 3,
    "Tỉnh Gia Lai": 3,
    "Tỉnh Đắk Lắk": 3,
    "Tỉnh Lâm Đồng": 3,
    "Tỉnh Phú Thọ": 3,
    "Tỉnh Tây Ninh": 3,
    "Tỉnh Sơn La": 1.5,
    "Tỉnh Lạng Sơn": 1,
    "Tỉnh Cao Bằng": 1,
    "Tỉnh Điện Biên": 1,
    "Tỉnh Lai Châu": 1,
}  # every other province: 2

SOUTH = {
    "Thành phố Hồ Chí Minh",
    "Thành phố Cần Thơ",
    "Tỉnh An Giang",
    "Tỉnh Cà Mau",
    "Tỉnh Đồng Tháp",
    "Tỉnh Vĩnh Long",
    "Tỉnh Tây Ninh",
    "Tỉnh Đồng Nai",
}
KIET = {"Thành phố Huế", "Thành phố Đà Nẵng"}  # central cities say "kiệt" for an alley
HA_TAY_DISTRICTS = {
    "Quận Hà Đông",
    "Thị xã Sơn Tây",
    "Huyện Chương Mỹ",
    "Huyện Ba Vì",
    "Huyện Thạch Thất",
    "Huyện Quốc Oai",
    "Huyện Hoài Đức",
    "Huyện Đan Phượng",
    "Huyện Phúc Thọ",
    "Huyện Thanh Oai",
    "Huyện Thường Tín",
    "Huyện Phú Xuyên",
    "Huyện Ứng Hòa",
    "Huyện Mỹ Đức",
}
CROPS: dict[str, tuple[str, ...]] = {
    "Tỉnh Gia Lai": ("cà phê", "hồ tiêu", "sầu riêng", "mì"),
    "Tỉnh Đắk Lắk": ("cà phê", "hồ tiêu", "sầu riêng", "mì"),
    "Tỉnh Lâm Đồng": ("cà phê", "rau", "thanh long", "sầu riêng"),
    "Tỉnh Bắc Ninh": ("vải thiều", "lúa", "rau màu"),
    "Tỉnh Sơn La": ("xoài", "nhãn", "mận", "ngô"),
    "Tỉnh Tây Ninh": ("mì", "mía", "thanh long", "lúa"),
    "Tỉnh Đồng Tháp": ("lúa", "xoài", "sầu riêng", "thanh long"),
    "Tỉnh Vĩnh Long": ("lúa", "bưởi", "dừa", "chôm chôm"),
    "Tỉnh Cà Mau": ("lúa", "tôm", "cua"),
    "Tỉnh An Giang": ("lúa", "xoài", "nếp"),
    "Thành phố Cần Thơ": ("lúa", "bưởi", "mía"),
    "Tỉnh Hưng Yên": ("nhãn", "lúa", "chuối"),
    "Tỉnh Tuyên Quang": ("cam", "chè", "ngô"),
    "Tỉnh Thái Nguyên": ("chè", "lúa", "ngô"),
}
DEFAULT_CROPS = ("lúa", "ngô", "lạc", "rau màu", "khoai lang")

STREETS = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Quang Trung",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Huệ",
    "Phan Đình Phùng",
    "Hùng Vương",
    "Lê Duẩn",
    "Điện Biên Phủ",
    "Nguyễn Văn Cừ",
    "Võ Văn Kiệt",
    "Tôn Đức Thắng",
    "Lê Hồng Phong",
    "Trần Phú",
    "Nguyễn Du",
    "Bà Triệu",
    "Phạm Văn Đồng",
    "Nguyễn Thị Minh Khai",
    "Cách Mạng Tháng Tám",
    "Lạc Long Quân",
    "Ngô Quyền",
    "Lý Thái Tổ",
    "Nguyễn Chí Thanh",
    "Hoàng Diệu",
    "Trường Chinh",
    "Nguyễn Văn Linh",
    "Phan Chu Trinh",
    "Lê Thánh Tông",
    "Tô Hiến Thành",
    "Bạch Đằng",
)
VILLAGE_NAMES = (
    "Đông",
    "Tây",
    "Trung",
    "Thượng",
    "Hạ",
    "Phú Hòa",
    "An Lạc",
    "Tân Lập",
    "Bình An",
    "Đồng Tâm",
    "Hòa Bình",
    "Mỹ Lợi",
    "Thanh Tân",
    "Phước Thạnh",
    "Vĩnh Hưng",
)

SURNAMES = (
    "Nguyễn",
    "Nguyễn",
    "Nguyễn",
    "Trần",
    "Trần",
    "Lê",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
)
MIDDLE_M = ("Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Xuân", "Ngọc")
MIDDLE_F = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Bích")
GIVEN_M = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hùng",
    "Hải",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tuấn",
    "Việt",
    "Khoa",
    "Thắng",
    "Tài",
    "Lộc",
    "Hiếu",
    "Trung",
    "Đạt",
    "Khánh",
    "Tùng",
)
GIVEN_F = (
    "Anh",
    "Hoa",
    "Hương",
    "Lan",
    "Mai",
    "Ngân",
    "Phương",
    "Thảo",
    "Trang",
    "Tuyết",
    "Yến",
    "Hạnh",
    "Linh",
    "Nga",
    "Nhung",
    "Oanh",
    "Thủy",
    "Vân",
    "Hằng",
    "Loan",
    "Dung",
    "Hiền",
)

MOBILE_PREFIXES = (
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "086",
    "088",
    "089",
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "070",
    "076",
    "077",
    "078",
    "079",
    "081",
    "083",
    "085",
)
LANDLINE_CODES = ("024", "028", "0236", "0225", "0234", "0292", "0233", "0222", "0238")
PLATE_CODES = ("29", "30", "51", "59", "43", "15", "74", "99", "37", "65", "61", "47", "36")
CCCD_PREFIXES = ("001", "079", "048", "031", "045", "027", "040", "092", "038", "066", "075")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class Place:
    """A real post-2025 ward or commune plus the old names residents still use."""

    ward: str
    province: str
    old_district: str
    old_province: str

    @property
    def locality(self) -> str:
        """``"Phường Bến Thành, Thành phố Hồ Chí Minh"`` style label."""
        return f"{self.ward}, {self.province}"

    @property
    def is_commune(self) -> bool:
        """True for a rural ``Xã`` (commune), False for an urban ``Phường``."""
        return self.ward.startswith("Xã")

    @property
    def ward_name(self) -> str:
        """The ward name without its type word."""
        return strip_type(self.ward)

    @property
    def south(self) -> bool:
        """True for provinces where hamlets are ``ấp`` and alleys ``hẻm``."""
        return self.province in SOUTH


ADMIN_TYPES = (
    "Thành phố",
    "Thành Phố",
    "Thị xã",
    "Thị Xã",
    "Quận",
    "Huyện",
    "Tỉnh",
    "Phường",
    "Xã",
    "Đặc khu",
)


def strip_type(name: str) -> str:
    """Drop the leading administrative type word (``Phường``, ``Huyện``...)."""
    for t in ADMIN_TYPES:
        if name.startswith(t + " "):
            return name[len(t) + 1 :]
    return name


def lower_type(name: str) -> str:
    """``"Quận 1"`` -> ``"quận 1"``: how citizens write unit names inside a sentence."""
    for t in ADMIN_TYPES:
        if name.startswith(t + " "):
            return t.lower() + name[len(t) :]
    return name


def prov_in_text(province: str, rng: random.Random) -> str:
    """A province name the way it appears inside a sentence."""
    short = strip_type(province)
    if short == "Hồ Chí Minh":
        return rng.choice(("TP.HCM", "TP Hồ Chí Minh", "thành phố Hồ Chí Minh", "Sài Gòn"))
    if province.startswith("Thành phố"):
        return rng.choice((f"thành phố {short}", f"TP {short}", short))
    return rng.choice((f"tỉnh {short}", short))


# ---------------------------------------------------------------------------
# Hand-written texts. Paragraphs separated by blank lines; line breaks inside a
# paragraph are just wrapping. Placeholders in {braces} are filled per row.
# ---------------------------------------------------------------------------

TOPIC_TEXTS: dict[str, str] = {
    "land_construction": """
Gia đình tôi nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất (sổ đỏ) tại {ward} từ {n_months}
tháng trước nhưng đến nay vẫn chưa có kết quả, hỏi thì cán bộ chỉ bảo chờ. Đề nghị cơ quan chức
năng kiểm tra và trả lời rõ hồ sơ đang vướng ở khâu nào.

Công trình nhà {n} tầng trên đường {street} thi công sai giấy phép, lấn ra vỉa hè gần 1 mét.
Phường đã lập biên bản nhưng chủ nhà vẫn tiếp tục xây ban đêm. Đề nghị xử lý dứt điểm.

Nhà bên cạnh đào móng làm nứt tường nhà tôi, trần bong tróc, mưa xuống là thấm nước. Tôi đã báo
tổ dân phố từ {n_weeks} tuần nay mà chưa thấy ai xuống lập biên bản hiện trạng.

Dự án mở rộng đường {street} đã thu hồi đất của {n_hh} hộ dân từ năm 2023 nhưng đến giờ nhiều hộ
vẫn chưa nhận đủ tiền bồi thường. Giá đền bù thấp hơn nhiều so với giá thị trường, bà con rất
bức xúc.

Khu đất trống ở {hamlet}, {ward} bị người ta lén chở đất đến san lấp để phân lô bán nền. Xin hỏi
chính quyền địa phương có nắm được việc này không?

Tôi muốn hỏi thủ tục tách thửa đất ở {ward} sau sáp nhập thì nộp hồ sơ ở đâu, vì trước đây tôi
làm ở {old_district} mà nay không còn cấp huyện nữa.

Dự án khu đô thị gần nhà tôi bị bỏ hoang gần {n_years} năm, cỏ mọc um tùm, thành chỗ tụ tập của
mấy đối tượng nghiện. Đề nghị tỉnh thu hồi dự án hoặc buộc chủ đầu tư triển khai.

Căn hộ chung cư tôi mua đã nhận bàn giao {n_years} năm nhưng chủ đầu tư vẫn chưa làm sổ hồng cho
cư dân. Ban quản trị đã gửi đơn nhiều lần mà không có hồi âm.

Đề nghị kiểm tra việc xây dựng nhà xưởng trên đất nông nghiệp tại {hamlet}, {ward}. Xưởng hoạt
động cả đêm, xe ra vào liên tục làm hỏng đường bê tông của thôn.

Ranh giới đất giữa nhà tôi và nhà hàng xóm đang tranh chấp, hòa giải ở cơ sở hai lần không
thành. Xin hỏi bước tiếp theo tôi phải gửi đơn lên đâu?

Bảng giá đất mới làm tiền sử dụng đất khi chuyển mục đích tăng gấp mấy lần, người dân bình
thường không kham nổi. Kiến nghị tỉnh xem xét lại hệ số cho khu vực nông thôn.

Vỉa hè đường {street} bị các quán ăn chiếm dụng hết, người đi bộ phải xuống lòng đường. Đề nghị
phường ra quân lập lại trật tự đô thị thường xuyên chứ không phải làm một hai hôm rồi thôi.
""",
    "environment": """
Bãi rác tự phát ở đầu {hamlet}, {ward} đã tồn tại hơn {n_months} tháng, bốc mùi hôi thối, ruồi
nhặng bu đầy. Đề nghị cho xe thu gom và đặt biển cấm đổ rác.

Xe rác không đến thu gom đã {n_days} ngày, rác chất đống đầu hẻm trên đường {street}. Trời nắng
mùi rất khó chịu, chó mèo bới tung ra đường.

Nhà máy trong khu công nghiệp gần {ward} xả khói đen vào ban đêm, sáng ra mùi khét nồng nặc, trẻ
con trong xóm ho liên tục. Mong cơ quan môi trường về quan trắc đột xuất vào buổi tối.

Kênh thoát nước chạy qua {hamlet} bị ô nhiễm nặng, nước đen kịt, cá chết nổi trắng. Nghi có cơ
sở chăn nuôi xả thải trực tiếp ra kênh.

Chỉ mưa khoảng 30 phút mà đường {street} đoạn gần chợ đã ngập tới đầu gối, xe chết máy hàng
loạt. Năm nào cũng vậy, bao giờ mới có dự án chống ngập cho khu này?

Cơ sở tái chế nhựa nằm ngay trong khu dân cư đốt phế liệu vào buổi tối, khói rất độc. Chúng tôi
đã phản ánh lên xã nhưng chỉ bị nhắc nhở rồi đâu lại vào đấy.

Cây xanh trên đường {street} bị chặt hạ hàng loạt mà không có thông báo. Xin hỏi việc chặt cây
này có được cấp phép không và có kế hoạch trồng lại không?

Đề nghị tăng số thùng rác phân loại ở nơi công cộng và hướng dẫn người dân phân loại rác tại
nguồn. Nhiều người muốn làm nhưng không biết bỏ vào đâu.

Tình trạng khai thác cát trái phép trên sông đoạn qua {ward} diễn ra vào ban đêm, bờ sông sạt lở
mạnh, vài hộ đã phải di dời. Mong lực lượng chức năng xử lý nghiêm.

Chất lượng không khí mấy hôm nay rất xấu, ứng dụng báo chỉ số AQI trên 200. Đề nghị thành phố có
cảnh báo sớm và cho học sinh hạn chế hoạt động ngoài trời.

Cống thoát nước trên đường {street} bị vỡ nắp, rất nguy hiểm cho người đi đường, nhất là ban
đêm. Hôm qua đã có người đi xe máy bị sụp bánh.

Lò giết mổ gia súc trong {hamlet} xả nước thải ra mương, mùi hôi ảnh hưởng cả khu dân cư. Kính
đề nghị kiểm tra giấy phép môi trường của cơ sở này.
""",
    "traffic_transport": """
Đường {street} đoạn qua {ward} có nhiều ổ gà sâu, mưa xuống đọng nước không nhìn thấy, tuần
trước có người đi xe máy bị ngã. Đề nghị sớm vá lại mặt đường.

Đèn tín hiệu giao thông ở ngã tư {street} - {street2} bị hỏng {n_days} ngày nay, giờ cao điểm ùn
tắc kéo dài mà không có ai điều tiết.

Xe tải chở đất đá quá tải chạy suốt ngày đêm trên tuyến đường liên xã qua {hamlet}, đường mới
làm chưa được hai năm đã nứt toác. Đề nghị đặt trạm cân hoặc cấm xe trọng tải lớn.

Đề nghị lắp thêm gờ giảm tốc và biển báo trước cổng trường {school}, giờ tan học xe chạy rất
nhanh, phụ huynh rất lo.

Tuyến xe buýt số {bus} thường xuyên trễ chuyến, có hôm chờ gần một tiếng. Tài xế còn không dừng
đúng trạm, người già không kịp lên xe.

Xin hỏi giấy phép lái xe hạng A1 cấp từ năm 2005 có bắt buộc phải đổi sang mẫu mới không, và có
làm online trên cổng dịch vụ công được không?

Cầu dân sinh bắc qua kênh ở {hamlet} đã xuống cấp, lan can gãy, ngày nào học sinh cũng phải đi
qua. Kính mong chính quyền sớm sửa chữa trước mùa mưa.

Đường {street} thi công dở dang mấy tháng nay, đào lên rồi bỏ đó, bụi mù mịt, không rào chắn,
ban đêm không có đèn cảnh báo.

Bãi giữ xe tự phát trước cổng bệnh viện thu 20 nghìn một lượt xe máy, gấp mấy lần giá quy định.
Đề nghị kiểm tra và xử lý.

Đoạn đường từ {ward} đi trung tâm không có đèn chiếu sáng, buổi tối tối om, đã xảy ra mấy vụ tai
nạn. Mong được lắp đèn đường.

Tình trạng đua xe, lạng lách trên đường {street} vào đêm cuối tuần rất nguy hiểm, tiếng pô nổ
inh ỏi đến 1-2 giờ sáng.

Đề xuất làm làn đường riêng cho xe đạp và cải tạo vỉa hè ở khu trung tâm để người đi bộ an toàn
hơn.
""",
    "health": """
Tôi đưa mẹ đi khám ở {hospital} từ 5 giờ sáng mà đến trưa vẫn chưa tới lượt, người già phải ngồi
chờ ngoài hành lang. Đề nghị bệnh viện cải tiến việc lấy số và có khu chờ riêng cho người cao
tuổi.

Khám bằng bảo hiểm y tế nhưng bệnh viện bảo thuốc trong danh mục hết, phải ra nhà thuốc bên
ngoài mua. Vậy quyền lợi BHYT của người bệnh ở đâu?

Trạm y tế {ward} sau sáp nhập thiếu bác sĩ, chỉ có một y sĩ trực, người dân phải đi xa hơn {km}
km để khám bệnh.

Xin hỏi thẻ BHYT hộ gia đình năm nay mức đóng bao nhiêu, có đóng online qua VssID được không hay
phải ra đại lý thu?

Thái độ của nhân viên khoa cấp cứu {hospital} rất thiếu tôn trọng, quát tháo người nhà bệnh
nhân. Tôi mong lãnh đạo bệnh viện chấn chỉnh.

Con tôi bị sốt xuất huyết phải nhập viện, khu {hamlet} đã có thêm vài ca mà chưa thấy phun thuốc
diệt muỗi. Đề nghị y tế dự phòng vào cuộc sớm.

Tôi chuyển tuyến từ trung tâm y tế lên tỉnh nhưng phải làm lại giấy chuyển viện mấy lần vì sai
mẫu. Thủ tục rườm rà làm chậm việc điều trị.

Phòng khám tư trên đường {street} quảng cáo chữa khỏi tiểu đường bằng thuốc nam, thu tiền rất
cao. Đề nghị Sở Y tế kiểm tra giấy phép hoạt động.

Đề nghị tổ chức tiêm vắc xin sởi bổ sung cho trẻ ở {ward}, nhiều cháu chưa được tiêm đủ mũi do
năm trước thiếu vắc xin.

Bệnh viện tính thêm tiền phòng dịch vụ dù gia đình không yêu cầu, bảng kê chi phí ghi không rõ
ràng. Xin hướng dẫn cách khiếu nại.

Xin cảm ơn các y bác sĩ khoa Nhi {hospital} đã tận tình cứu chữa cho con tôi. Mong bệnh viện sớm
có thêm giường để các cháu không phải nằm ghép.
""",
    "education": """
Đầu năm học trường {school} thu quá nhiều khoản: quỹ lớp, quỹ phụ huynh, tiền máy chiếu, tiền
điều hòa... tổng cộng hơn {amount} triệu mỗi học sinh. Đề nghị Sở Giáo dục kiểm tra các khoản
thu ngoài quy định.

Lớp con tôi có tới {class_size} học sinh, cô giáo không thể bao quát hết. Xin hỏi khi nào khu
vực {ward} có thêm trường mới?

Con tôi vào lớp 1 nhưng không được nhận vào trường gần nhà vì chỉ đăng ký tạm trú. Bỏ sổ hộ khẩu
rồi thì tuyển sinh đúng tuyến dựa theo dữ liệu nào?

Giáo viên chủ nhiệm gợi ý học sinh đi học thêm ở nhà cô, em nào không đi thì bị chấm điểm khắt
khe hơn. Mong nhà trường lưu tâm.

Phòng học ở điểm trường {hamlet} xuống cấp, mái tôn thủng, mưa là dột, các cháu phải ngồi né
nước. Kính đề nghị sửa chữa trước mùa mưa bão.

Xin hỏi chính sách miễn học phí năm học này có áp dụng cho trẻ mầm non không, và học sinh trường
tư thục được hỗ trợ bao nhiêu?

Bếp ăn bán trú của trường {school} cho các cháu ăn rất ít, thức ăn kém chất lượng trong khi thu
35 nghìn một suất. Phụ huynh muốn được công khai thực đơn và hóa đơn đầu vào.

Xe đưa đón học sinh của trường chở quá số người, các cháu phải đứng chen chúc. Đề nghị kiểm tra
đăng kiểm và hợp đồng vận chuyển.

Đề nghị bố trí thêm giáo viên tiếng Anh và tin học cho các trường vùng sâu, học sinh ở {ward}
thiệt thòi quá so với thành phố.

Con tôi bị bạn cùng lớp bắt nạt nhiều lần, còn bị quay video tung lên mạng. Tôi đã báo cô chủ
nhiệm nhưng nhà trường xử lý chưa thỏa đáng.

Nhóm trẻ tư thục trong hẻm đường {street} không có giấy phép, nhận hơn 30 cháu mà chỉ có 2 cô
trông. Xin cơ quan chức năng kiểm tra.
""",
    "social_welfare": """
Bố tôi nghỉ hưu đã {n_months} tháng mà vẫn chưa nhận được lương hưu tháng đầu tiên, hỏi bên bảo
hiểm xã hội thì bảo hồ sơ đang chờ xét duyệt.

Gia đình tôi thuộc diện hộ nghèo nhưng năm nay bị đưa ra khỏi danh sách mà không rõ lý do, trong
khi có hộ khá giả hơn lại được. Đề nghị xem xét lại việc bình xét ở {hamlet}.

Mẹ tôi {age} tuổi, sống một mình, chưa được nhận trợ cấp xã hội hằng tháng. Xin hỏi thủ tục đăng
ký làm ở đâu khi đã bỏ cấp huyện?

Tôi làm công nhân, công ty nợ đóng bảo hiểm xã hội {n_months} tháng nay, giờ tôi nghỉ việc không
chốt được sổ để hưởng trợ cấp thất nghiệp. Mong cơ quan chức năng can thiệp.

Xin hỏi muốn rút bảo hiểm xã hội một lần theo luật mới thì điều kiện thế nào, tôi đóng được 7
năm rồi nghỉ.

Tiền trợ cấp người có công của ông nội tôi bị chậm chi trả 2 tháng, người già trông vào khoản
này để mua thuốc.

Đề nghị hỗ trợ sửa nhà cho các hộ nghèo ở {ward}, nhiều nhà tạm bợ, mùa mưa gió rất nguy hiểm.

Con tôi khuyết tật nặng nhưng hồ sơ xác định mức độ khuyết tật nộp từ {n_months} tháng trước vẫn
chưa được họp xét. Gia đình rất khó khăn.

Xin cảm ơn cán bộ xã đã đến tận nhà hướng dẫn bà tôi làm hồ sơ hưởng trợ cấp, rất nhiệt tình và
chu đáo.

Lương hưu giờ chuyển qua tài khoản ngân hàng nhưng nhiều cụ không biết dùng thẻ ATM. Đề nghị vẫn
duy trì điểm chi trả tiền mặt tại xã.

Tiền hỗ trợ mai táng phí cho gia đình tôi đã được duyệt nhưng {n_weeks} tuần rồi vẫn chưa nhận
được. Xin hỏi bao lâu thì được chi trả?
""",
    "public_order": """
Quán karaoke trên đường {street} hát đến {late}, âm thanh cực lớn, người già và trẻ nhỏ không
ngủ được. Chúng tôi đã gọi công an phường nhiều lần mà đâu vẫn vào đấy.

Hàng xóm mở loa kẹo kéo hát từ sáng đến tối, cuối tuần còn kéo dài tới khuya. Xin hỏi quy định
về tiếng ồn trong khu dân cư xử lý thế nào?

Khu vực {hamlet} dạo này mất trộm xe máy liên tục, tuần trước có 3 nhà bị bẻ khóa. Đề nghị tăng
cường tuần tra ban đêm.

Có nhóm thanh niên tụ tập uống rượu, đánh bài ở nhà văn hóa {hamlet} đến nửa đêm, chửi bới to
tiếng.

Tôi bị lừa qua điện thoại, kẻ gian giả danh công an yêu cầu chuyển tiền để "xác minh" tài khoản,
mất {amount} triệu. Xin hướng dẫn cách trình báo.

Tiệm cầm đồ trên đường {street} cho vay nặng lãi, đòi nợ bằng cách tạt sơn, dán ảnh bôi nhọ.
Người dân rất hoang mang.

Đám cưới nhà bên dựng rạp chắn hết lối đi chung ba ngày liền, loa đài mở từ 5 giờ sáng. Mong
phường nhắc nhở.

Chó thả rông không rọ mõm ngoài đường {street}, đã có cháu bé bị cắn. Đề nghị xử lý các hộ nuôi
chó thả rông.

Đề nghị lắp thêm camera an ninh ở các ngõ của {ward}, mô hình camera kết nối với công an ở
phường bên làm rất hiệu quả.

Bãi đất trống cạnh chợ về đêm có đối tượng lạ mặt tụ tập, nghi mua bán ma túy. Tôi đề nghị giữ
bí mật danh tính người báo tin.

Xin khen ngợi công an {ward} đã nhanh chóng tìm lại chiếc xe máy bị mất cho gia đình tôi chỉ sau
hai ngày.
""",
    "administrative_procedures": """
Tôi làm thủ tục đăng ký khai sinh cho con trên Cổng dịch vụ công quốc gia từ ngày {date}, hồ sơ
vẫn báo "đang xử lý". Đã quá hạn giải quyết mà không ai liên hệ.

Cổng dịch vụ công liên tục báo lỗi khi tải tệp đính kèm, thử trên cả điện thoại và máy tính đều
không được. Mong bộ phận kỹ thuật sớm khắc phục.

Con tôi 14 tuổi cần làm thẻ căn cước, xin hỏi có làm ở công an {ward} được không hay phải lên
công an tỉnh? Cần mang theo giấy tờ gì?

Tôi làm lại thẻ căn cước bị mất từ {n_weeks} tuần trước, giấy hẹn ghi 7 ngày nhưng đến nay vẫn
chưa có. Tôi đang cần gấp để làm thủ tục ngân hàng.

Sau sáp nhập, địa chỉ trên giấy tờ của tôi vẫn ghi {old_district}, {old_prov}. Xin hỏi có bắt
buộc phải làm lại CCCD và sổ đỏ không?

Bộ phận một cửa {ward} chỉ làm việc giờ hành chính, người đi làm không thể đến được. Đề nghị mở
cửa thêm sáng thứ Bảy.

Cán bộ tiếp nhận hồ sơ yêu cầu bổ sung giấy tờ nhiều lần, mỗi lần một kiểu, tôi phải đi lại 4
lần. Đề nghị hướng dẫn một lần cho đầy đủ.

Tài khoản VNeID của tôi không lên được mức 2 dù đã ra công an phường làm hai lần, hỏi thì bảo do
lỗi hệ thống.

Trung tâm phục vụ hành chính công {ward} mới đi vào hoạt động rất khang trang, cán bộ hướng dẫn
tận tình. Chỉ mong có thêm chỗ để xe.

Tôi nộp hồ sơ chứng thực bản sao online nhưng vẫn bị yêu cầu mang bản chính đến đối chiếu, vậy
làm online để làm gì?

Xin hỏi thủ tục đăng ký kết hôn với người nước ngoài nay làm ở đâu, vì trước đây làm ở phòng tư
pháp {old_district} mà giờ không còn cấp huyện.

Sau khi sáp nhập xã, trụ sở mới cách nhà tôi gần {km} km, người già đi làm giấy tờ rất vất vả.
Đề nghị bố trí điểm tiếp nhận lưu động.
""",
    "electricity_water": """
Khu vực {hamlet}, {ward} mất điện từ sáng đến chiều mà không có thông báo trước, hàng quán thiệt
hại nặng. Đề nghị điện lực thông báo lịch cắt điện sớm.

Hóa đơn tiền điện tháng này của nhà tôi tăng gần gấp đôi dù sử dụng như bình thường. Đề nghị
kiểm tra lại công tơ.

Nước máy có màu vàng đục và mùi clo nồng, gia đình không dám dùng để nấu ăn. Mong công ty cấp
nước kiểm tra chất lượng.

Đường ống nước bị vỡ trên đường {street}, nước chảy lênh láng {n_days} ngày chưa ai sửa, vừa
lãng phí vừa làm hỏng mặt đường.

{ward_cap} vẫn còn nhiều hộ chưa có nước sạch, phải dùng nước giếng khoan nhiễm phèn. Xin hỏi
khi nào có dự án cấp nước?

Điện chập chờn, điện áp yếu vào buổi tối, tủ lạnh và máy bơm không chạy được. Trạm biến áp ở
{hamlet} quá tải từ lâu rồi.

Cột điện trước nhà bị nghiêng, dây điện võng thấp sát mái tôn, mưa gió rất nguy hiểm. Kính đề
nghị điện lực xử lý khẩn cấp.

Công ty cấp nước tính tiền theo chỉ số ước lượng, không cử người xuống ghi đồng hồ, tháng nào
cũng bị tính dư.

Xin hỏi thủ tục lắp công tơ điện riêng cho phòng trọ để người thuê được tính giá điện sinh hoạt
theo bậc thang?

Chủ nhà trọ thu tiền điện 4.000 đồng/kWh, tiền nước 100 nghìn/người, cao hơn giá quy định. Người
lao động thuê trọ chúng tôi rất thiệt.

Mất nước liên tục vào giờ cao điểm buổi sáng và tối, nhà ở tầng cao không có nước dùng. Đề nghị
tăng áp lực nước khu vực {ward}.
""",
    "labour_employment": """
Công ty nơi tôi làm việc nợ lương công nhân {n_months} tháng, chủ doanh nghiệp đã bỏ trốn. Hơn
200 công nhân đang rất khó khăn, đề nghị cơ quan lao động vào cuộc.

Tôi bị công ty cho nghỉ việc không báo trước, không trả trợ cấp thôi việc. Xin hỏi tôi có thể
khiếu nại ở đâu?

Công ty bắt công nhân tăng ca đến 10 giờ đêm, mỗi tháng hơn 60 giờ, ai không làm bị trừ thưởng
chuyên cần.

Xin hỏi chương trình đào tạo nghề miễn phí cho lao động nông thôn ở {ward} năm nay có những nghề
gì và đăng ký ở đâu?

Công ty môi giới xuất khẩu lao động thu của tôi 120 triệu rồi không thấy cho đi, giờ không liên
lạc được. Mong công an điều tra.

Đề nghị tổ chức thêm phiên giao dịch việc làm tại xã, thanh niên ở quê muốn tìm việc gần nhà mà
không có thông tin.

Xưởng may không ký hợp đồng lao động, chỉ trả lương tiền mặt, không đóng bảo hiểm cho công nhân
dù đã làm hơn một năm.

Tôi đăng ký hưởng trợ cấp thất nghiệp đã quá thời hạn mà chưa nhận được quyết định. Trung tâm
dịch vụ việc làm hẹn hết lần này đến lần khác.

Xin hỏi lao động tự do như tôi (chạy xe ôm công nghệ) có được tham gia BHXH tự nguyện không, nhà
nước hỗ trợ bao nhiêu phần trăm?

Môi trường làm việc ở xưởng gỗ rất bụi, không được phát khẩu trang, nhiều anh em bị bệnh phổi.
Kính đề nghị thanh tra an toàn lao động.

Tôi bị tai nạn lao động gãy chân, công ty chỉ hỗ trợ 5 triệu rồi thôi, không làm hồ sơ tai nạn
lao động cho tôi.
""",
    "agriculture": """
Giá {crop} năm nay rớt thê thảm, thương lái ép giá, bà con bán không đủ tiền phân bón. Đề nghị
tỉnh hỗ trợ kết nối tiêu thụ.

Kênh mương nội đồng ở {hamlet} bị bồi lắng, không dẫn được nước vào ruộng, mấy chục héc-ta lúa
có nguy cơ thiếu nước.

Đàn lợn nhà tôi và nhiều hộ trong thôn chết rải rác, nghi dịch tả lợn châu Phi mà thú y xã chưa
xuống lấy mẫu.

Phân bón giả bán tràn lan ở các đại lý nhỏ, bón vào cây không lên. Mong cơ quan chức năng kiểm
tra, xử lý.

Xin hỏi chính sách hỗ trợ giống cây trồng cho nông dân bị thiệt hại do thiên tai năm nay như thế
nào, thủ tục kê khai ra sao?

Trạm bơm điện của hợp tác xã hỏng từ đầu vụ, bà con phải thuê máy dầu để tưới, chi phí tăng rất
nhiều.

Nước mặn xâm nhập sớm, nhiều ruộng {crop} ở {ward} bị ảnh hưởng. Đề nghị vận hành cống ngăn mặn
kịp thời và thông báo lịch cho bà con.

Đề nghị hỗ trợ tiêm phòng lở mồm long móng miễn phí cho trâu bò, nhiều hộ nghèo không đủ tiền tự
tiêm.

Doanh nghiệp liên kết hứa bao tiêu sản phẩm nhưng đến mùa thu hoạch lại không thu mua, nông dân
trồng {crop} bị bỏ rơi.

Chuột phá lúa rất nhiều trong vụ này, xin xã tổ chức đợt diệt chuột tập trung.

Người dân trồng {crop} muốn làm mã số vùng trồng để xuất khẩu nhưng không biết bắt đầu từ đâu.
Mong được hướng dẫn.
""",
    "corruption_conduct": """
Cán bộ địa chính xã gợi ý phải "bồi dưỡng" thì mới làm nhanh hồ sơ đất cho tôi. Tôi không đồng ý
thì hồ sơ bị ngâm đến nay.

Trong đợt chi hỗ trợ, trưởng thôn đưa cả người nhà vào danh sách nhận tiền dù không thuộc diện.
Đề nghị công khai danh sách.

Cán bộ bộ phận một cửa làm việc riêng, dùng điện thoại trong giờ, người dân đợi cả tiếng không
được tiếp.

Đề nghị thanh tra việc sử dụng tiền đóng góp xây nhà văn hóa ở {hamlet}, mỗi hộ góp 2 triệu mà
công trình làm sơ sài, không công khai chi tiêu.

Nghe nói có cán bộ phường nhận tiền để làm ngơ cho công trình xây sai phép trên đường {street}.
Tôi có ảnh chụp, xin được gửi cho cơ quan chức năng và mong được bảo vệ người tố cáo.

Chủ tịch xã không tiếp công dân đúng lịch đã công bố, bà con đến ba lần đều không gặp được.

Tổ tuần tra ở đường {street} dừng xe không rõ lý do rồi gợi ý "giải quyết nhanh". Tôi đề nghị
kiểm tra.

Tôi muốn tố cáo việc nâng khống khối lượng trong công trình bê tông hóa đường thôn, đường mới
làm đã bong tróc. Tôi xin được giữ bí mật tên.

Cán bộ tư pháp xã thu phí chứng thực cao hơn mức quy định và không đưa biên lai.

Xin ghi nhận tinh thần làm việc của anh cán bộ tiếp dân ở {ward}, giải thích rõ ràng, không gây
khó dễ cho ai.
""",
    "other": """
Cảm ơn UBND {ward} đã nhanh chóng sửa đèn đường sau khi tôi phản ánh qua Zalo, chỉ hai ngày là
xong.

Đề nghị xây thêm công viên và sân chơi cho trẻ em ở khu vực {ward}, hiện các cháu chỉ chơi ngoài
đường rất nguy hiểm.

Xin hỏi số điện thoại đường dây nóng để phản ánh về an toàn thực phẩm là số nào?

Đề nghị UBND có chuyên mục hỏi đáp thường xuyên trên trang Facebook để người dân tiện hỏi thủ
tục.

Khu chợ ở {hamlet} đã được xây mới khang trang, bà con buôn bán thuận lợi. Cảm ơn chính quyền.

Xin hỏi năm nay làng tôi tổ chức lễ hội truyền thống thì thủ tục đăng ký có gì thay đổi sau sáp
nhập không?

Nên có bãi đỗ xe công cộng ở khu trung tâm vì người dân không có chỗ gửi xe khi đi làm thủ tục.

Thư viện phường nên mở cửa buổi tối và cuối tuần để học sinh, sinh viên có chỗ học.

Góp ý về quy hoạch của tỉnh sau sáp nhập: nên giữ tên các địa danh cũ trên biển chỉ dẫn để người
dân dễ nhận biết, ví dụ ghi thêm {old_district} cũ.

Xin hỏi khi nào ứng dụng phản ánh hiện trường của tỉnh cho gửi video? Hiện chỉ gửi được ảnh.

Chương trình ngày Chủ nhật xanh dọn vệ sinh ở {ward} rất ý nghĩa, mong được duy trì hằng tháng.

Đề nghị làm thêm nhà vệ sinh công cộng ở khu vực bến xe và chợ đầu mối.
""",
}

# Spike 1: flood in a central province (Quảng Trị), 2026-10-14..16.
FLOOD_TEXTS = """
Nước lũ lên rất nhanh, nhà tôi ở {hamlet}, {ward} ngập gần tới mái, có người già và trẻ nhỏ, cần
cứu hộ gấp!

Khu vực {ward} mất điện từ chiều hôm qua do mưa lũ, đến giờ vẫn chưa có điện, điện thoại sắp hết
pin, không liên lạc được với người thân.

Đường từ {ward} ra trung tâm bị sạt lở, chia cắt hoàn toàn, xe cứu thương không vào được. Đề
nghị mở đường tạm khẩn cấp.

Cả xóm bị cô lập {n_small} ngày nay, thiếu nước sạch, mì tôm cũng sắp hết. Xin chính quyền tiếp
tế lương thực.

Thủy điện xả lũ mà thông báo quá muộn, nước lên nhanh trong đêm, bà con không kịp di dời tài
sản. Đề nghị làm rõ trách nhiệm.

Trường học ở {ward} bị ngập, sách vở của các cháu ướt hết. Xin hỏi khi nào học sinh được đi học
lại?

Cột điện đổ chắn ngang đường {street}, dây điện rơi xuống nước rất nguy hiểm, đề nghị cắt điện
khu vực và xử lý gấp.

Nước rút rồi nhưng bùn đất ngập nhà, giếng bị nhiễm bẩn, mong được hỗ trợ thuốc khử trùng
Cloramin B và nước uống.

Lúa mới gieo bị lũ cuốn hết, ao cá mất trắng. Xin hỏi thủ tục kê khai thiệt hại để được hỗ trợ.

Đề nghị điện lực ưu tiên khôi phục điện cho trạm bơm và trạm y tế {ward}, hiện đang phải chạy
máy phát.

Mạng điện thoại ở {ward} mất sóng từ sáng, gọi 112 không được. Người dân rất lo.

Nhà tôi mất điện hai ngày, tủ lạnh hỏng hết đồ ăn. Bao giờ điện lực mới đóng điện lại cho
{hamlet}?
"""

# Spike 2: water outage in Hà Nội, 2026-09-23..25.
WATER_OUTAGE_TEXTS = """
Khu vực {ward} mất nước từ tối qua đến giờ mà không có thông báo gì. Nhà có trẻ nhỏ, không có
nước sinh hoạt.

Mất nước {n_small} ngày rồi, xe bồn chở nước đến thì mỗi nhà chỉ được vài can, người xếp hàng
dài. Bao giờ mới có nước lại?

Nghe nói tuyến ống truyền dẫn chính bị vỡ, xin công ty cấp nước cho biết thời gian khắc phục cụ
thể để dân chủ động.

Chung cư tôi ở tầng 20, mất nước hai ngày, người già phải xách nước lên. Đề nghị bố trí xe nước
cho các tòa nhà cao tầng.

Có nước lại rồi nhưng nước đục ngầu, có cặn, không dám dùng. Xin hỏi đã an toàn chưa?

Đề nghị miễn giảm tiền nước tháng này cho các hộ bị mất nước kéo dài ở {ward}.

Các cửa hàng tranh thủ bán bình nước 20 lít giá gấp ba, đề nghị quản lý thị trường kiểm tra.
"""

# Spike 3: school-fee announcement in Hồ Chí Minh City, 2026-09-07..09.
SCHOOL_FEE_TEXTS = """
Trường {school} vừa công bố các khoản thu năm học mới, riêng tiền dịch vụ tiện ích đã {amount}
triệu, phụ huynh không được họp bàn trước. Đề nghị làm rõ.

Thông báo thu tiền tiếng Anh liên kết và kỹ năng sống là bắt buộc hay tự nguyện? Nhà trường ghi
trong phiếu thu như thể bắt buộc.

Nhà nước đã miễn học phí mà sao trường vẫn thu tiền bán trú, tiền vệ sinh, tiền nước uống... cao
hơn năm ngoái?

Ban đại diện cha mẹ học sinh lớp con tôi đề nghị mỗi nhà đóng 1 triệu để mua tivi cho lớp, tôi
thấy không hợp lý. Xin hỏi quy định về vận động tài trợ.

Đề nghị Sở Giáo dục công khai danh mục các khoản thu được phép để phụ huynh đối chiếu, tránh lạm
thu đầu năm học.

Gia đình có 3 con đi học, tổng các khoản đầu năm gần {amount_big} triệu, thu nhập công nhân
không kham nổi. Xin hỏi có được giảm hay hoãn đóng không?
"""

# Rumours: false claims citizens repeat or ask about. (text, province or "", first day, last day)
RUMOURS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Nghe nói sắp thu hồi toàn bộ đất nông nghiệp ở {ward} để làm khu công nghiệp, không bồi "
        "thường gì hết, có đúng không ạ? Cả xóm đang hoang mang.",
        "",
        "",
        "",
    ),
    (
        "Tin đồn nước máy khu mình nhiễm độc, uống vào bị ung thư, nhà em có nên ngừng dùng không? "
        "Trên nhóm Zalo khu phố ai cũng chia sẻ.",
        "Thành phố Hà Nội",
        "2026-09-24",
        "2026-09-27",
    ),
    (
        "Nghe nói phải nộp 500 nghìn mới được làm CCCD gắn chip nhanh, không nộp thì chờ mấy tháng. "
        "Thật không ạ?",
        "",
        "",
        "",
    ),
    (
        "Trên Facebook có người nói từ tháng sau ai chưa kích hoạt VNeID mức 2 sẽ bị khóa tài khoản "
        "ngân hàng và không rút được lương hưu. Xin cơ quan chức năng xác nhận.",
        "",
        "",
        "",
    ),
    (
        "Nghe đồn sổ đỏ cũ phải đổi hết sang mẫu mới trước cuối năm, không đổi là mất quyền sử dụng "
        "đất. Ông bà tôi già rồi, rất lo.",
        "",
        "",
        "",
    ),
    (
        "Có tin nhắn nói người dân vùng lũ được nhận 5 triệu tiền hỗ trợ, chỉ cần bấm vào đường link "
        "và nhập số tài khoản ngân hàng. Đây có phải tin của chính quyền không?",
        "Tỉnh Quảng Trị",
        "2026-10-16",
        "2026-10-19",
    ),
    (
        "Mọi người đang đồn hồ thủy điện phía trên sắp vỡ đập, bảo nhau chạy lên đồi hết. Xin "
        "chính quyền thông tin chính xác!",
        "Tỉnh Quảng Trị",
        "2026-10-14",
        "2026-10-15",
    ),
    (
        "Nghe nói vắc xin tiêm cho trẻ ở trạm y tế đợt này là hàng sắp hết hạn nên mới tiêm miễn "
        "phí. Phụ huynh ai cũng sợ.",
        "",
        "",
        "",
    ),
    (
        "Người ta đồn sáp nhập tỉnh xong thì phải làm lại toàn bộ giấy tờ, CCCD, sổ đỏ, giấy phép "
        "lái xe và mất phí mỗi loại mấy trăm nghìn. Có đúng không?",
        "",
        "",
        "",
    ),
    (
        "Nghe nói ai đi làm thêm sau khi nghỉ hưu sẽ bị cắt lương hưu từ năm sau. Bố tôi đang làm "
        "bảo vệ, có bị ảnh hưởng không ạ?",
        "",
        "",
        "",
    ),
    (
        "Có người nói nhà trường sẽ thu thêm 2 triệu tiền 'chuyển đổi số', ai không đóng thì con "
        "không được vào lớp. Tin này có thật không?",
        "Thành phố Hồ Chí Minh",
        "2026-09-08",
        "2026-09-11",
    ),
)

# Messages from foreign residents, in English.
ENGLISH_TEXTS = """
Hello, I am a foreign teacher living in {area}. The construction site next to my apartment
starts work at 6am and continues past 10pm every day, including Sundays. Is this allowed, and
who should I contact?

How do I register my temporary residence online? My landlord says I have to do it myself on the
public service portal, but the website is only in Vietnamese.

The garbage in our alley in {area} has not been collected for about a week. The smell is
terrible. Could someone please send a truck?

I was charged 500,000 VND for a 3 km taxi ride and the driver refused to use the meter. Where
can I file a complaint?

Our street floods every time it rains heavily and water comes into the ground floor of our
house. Is there any plan to improve the drainage in {area}?

Is the tap water in {city} safe to drink after boiling? There are rumours in expat groups that
it is contaminated.

The e-visa extension page keeps timing out when I upload my passport photo. I have tried several
times over three days.

Thank you to the ward police in {area} who helped me when I lost my wallet. They were very kind
and patient.

Could the city add English signs at bus stops and on buses? It is very hard for visitors to use
public transport.

Air quality has been very bad this week. Will schools announce restrictions on outdoor
activities for children?

Motorbikes are parked all over the sidewalk on {street} street, so pedestrians, including
parents with strollers, have to walk in the road.
"""

# Texts that lean on pre-2025 names (districts, merged provinces), each with its ward.
OLD_NAME_TEXTS: tuple[tuple[str, str, str], ...] = (
    (
        "Phường Sài Gòn",
        "Thành phố Hồ Chí Minh",
        "Nhà tôi ở phường Bến Nghé, quận 1 cũ, nay là phường Sài Gòn. Sổ hồng vẫn ghi địa chỉ "
        "cũ, ngân hàng yêu cầu giấy xác nhận địa chỉ mới thì tôi xin ở đâu?",
    ),
    (
        "Phường Bến Thành",
        "Thành phố Hồ Chí Minh",
        "Khu vực chợ Bến Thành, quận 1 cũ, tối nào cũng có người bán hàng rong chèo kéo khách du "
        "lịch, vỉa hè bị lấn chiếm hết. Đề nghị phường Bến Thành ra quân xử lý.",
    ),
    (
        "Phường Hà Đông",
        "Thành phố Hà Nội",
        "Tôi sinh ra ở Hà Đông, tỉnh Hà Tây cũ, giấy khai sinh vẫn ghi nơi sinh là Hà Tây. Khi khai "
        "trên cổng dịch vụ công thì hệ thống không có lựa chọn này, xin hỏi phải ghi thế nào?",
    ),
    (
        "Phường Sơn Tây",
        "Thành phố Hà Nội",
        "Thành cổ ở thị xã Sơn Tây cũ đang xuống cấp nhiều đoạn, tường thành nứt, cây mọc trên "
        "mặt thành. Đề nghị thành phố sớm có kế hoạch tu bổ.",
    ),
    (
        "Phường Thủ Dầu Một",
        "Thành phố Hồ Chí Minh",
        "Trước đây tôi nộp hồ sơ ở thành phố Thủ Dầu Một, tỉnh Bình Dương, nay về TP.HCM thì kết "
        "quả trả ở đâu? Gọi tổng đài mỗi người nói một kiểu.",
    ),
    (
        "Xã Lệ Thủy",
        "Tỉnh Quảng Trị",
        "Huyện Lệ Thủy, tỉnh Quảng Bình cũ nay thuộc tỉnh Quảng Trị, vậy thẻ bảo hiểm y tế đăng ký "
        "khám ban đầu ở bệnh viện huyện cũ của tôi còn dùng được không?",
    ),
    (
        "Phường Hải Dương",
        "Thành phố Hải Phòng",
        "Tỉnh Hải Dương đã nhập vào Hải Phòng, xe tôi mang biển số 34 thì có phải đi đổi biển "
        "không, có mất phí không?",
    ),
    (
        "Phường Tam Thắng",
        "Thành phố Hồ Chí Minh",
        "Tôi ở thành phố Vũng Tàu, tỉnh Bà Rịa - Vũng Tàu cũ. Giờ xin giấy phép sửa nhà thì nộp ở "
        "phường hay phải lên sở của TP.HCM?",
    ),
    (
        "Phường Thủ Đức",
        "Thành phố Hồ Chí Minh",
        "Tôi ở phường Linh Chiểu, quận Thủ Đức cũ. Qua mấy lần thay đổi địa giới, giấy tờ nhà tôi "
        "ghi ba kiểu địa chỉ khác nhau, xin hỏi có cần cập nhật không?",
    ),
    (
        "Phường Bắc Giang",
        "Tỉnh Bắc Ninh",
        "Tỉnh Bắc Giang cũ sáp nhập vào Bắc Ninh, người dân thành phố Bắc Giang cũ đi làm thủ tục "
        "ở tỉnh giờ xa hơn nhiều. Đề nghị giữ một điểm tiếp nhận hồ sơ cấp tỉnh ở đây.",
    ),
)

# The coordinated campaign (one petition, many near-identical copies).
CAMPAIGN_WARD = "Xã Phù Lãng"
CAMPAIGN_PROVINCE = "Tỉnh Bắc Ninh"
CAMPAIGN_TEXT = (
    "{opener}Chúng tôi, người dân xã Phù Lãng, {firmly} phản đối việc đặt {plant} tại khu bãi "
    "bồi ven sông Cầu. Vị trí này chỉ cách khu dân cư {distance} và gần nguồn nước sinh hoạt "
    "của {households} Đề nghị UBND tỉnh tổ chức lấy ý kiến người dân công khai và xem xét "
    "chuyển dự án sang vị trí khác{p2}{signature}"
)

TOPIC_WEIGHTS: dict[str, float] = {
    "land_construction": 11,
    "environment": 12,
    "traffic_transport": 12,
    "health": 8,
    "education": 7,
    "social_welfare": 7,
    "public_order": 9,
    "administrative_procedures": 11,
    "electricity_water": 9,
    "labour_employment": 5,
    "agriculture": 6,
    "corruption_conduct": 4,
    "other": 6,
}

# Channel mixes, as (channel, weight).
Mix = tuple[tuple[str, float], ...]
BACKGROUND_CHANNELS: Mix = (
    ("web_form", 30),
    ("hotline", 22),
    ("social_media", 26),
    ("email", 7),
    ("survey", 5),
    ("open311", 6),
    ("api", 4),
)
FLOOD_CHANNELS: Mix = (
    ("hotline", 40),
    ("social_media", 38),
    ("web_form", 12),
    ("open311", 6),
    ("api", 4),
)
WATER_CHANNELS: Mix = (("social_media", 40), ("hotline", 35), ("web_form", 20), ("email", 5))
SCHOOL_CHANNELS: Mix = (("social_media", 40), ("web_form", 35), ("email", 15), ("hotline", 10))
CAMPAIGN_CHANNELS: Mix = (("social_media", 60), ("web_form", 35), ("email", 5))
RUMOUR_CHANNELS: Mix = (("social_media", 60), ("hotline", 20), ("web_form", 20))
ENGLISH_CHANNELS: Mix = (("email", 45), ("web_form", 40), ("social_media", 15))

# Relative weight of each hour of the day (0..23), per kind of channel.
HOURS_OFFICE = (0, 0, 0, 0, 0, 0, 1, 5, 10, 12, 11, 8, 4, 4, 9, 11, 10, 8, 3, 1, 1, 1, 0, 0)
HOURS_WEB = (1, 0.5, 0.3, 0.2, 0.2, 1, 2, 4, 7, 9, 9, 8, 5, 5, 7, 8, 7, 6, 5, 6, 7, 7, 5, 3)
HOURS_SOCIAL = (3, 2, 1, 0.5, 0.5, 1, 3, 5, 6, 6, 5, 6, 7, 5, 5, 5, 5, 6, 7, 9, 11, 12, 10, 6)
HOURS_EMERGENCY = (3, 3, 3, 2, 2, 3, 5, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 5, 4, 4)
CHANNEL_HOURS: dict[str, tuple[float, ...]] = {
    "hotline": HOURS_OFFICE,
    "survey": HOURS_OFFICE,
    "open311": HOURS_WEB,
    "api": HOURS_WEB,
    "web_form": HOURS_WEB,
    "email": HOURS_WEB,
    "social_media": HOURS_SOCIAL,
}

FORMAL_OPENERS = (
    "Kính gửi UBND {prov_cap},",
    "Kính gửi Ban Tiếp công dân,",
    "Kính gửi lãnh đạo {ward},",
    "Kính thưa quý cơ quan,",
    "Kính gửi các cơ quan chức năng,",
    "Kính gửi UBND {ward},",
)
FORMAL_CLOSERS = (
    "Trân trọng cảm ơn.",
    "Rất mong nhận được phản hồi sớm.",
    "Xin chân thành cảm ơn!",
    "Kính mong được xem xét giải quyết.",
    "Trân trọng.",
)
SOCIAL_OPENERS = (
    "Ad ơi!",
    "Mọi người ơi!",
    "Kính gửi page UBND:",
    "Dạ cho mình phản ánh:",
    "Gửi UBND {ward}:",
    "Nhờ page chuyển giúp:",
)
SOCIAL_CLOSERS = (
    "Mong ad phản hồi ạ.",
    "Bức xúc quá!",
    "😡😡",
    "🙏🙏",
    "Cảm ơn ad.",
    "Mọi người share giúp để chính quyền biết với!",
    "Mong được quan tâm ạ!!!",
)
HOTLINE_PREFIXES = (
    "Người dân gọi điện phản ánh: ",
    "Nội dung cuộc gọi: ",
    "Công dân gọi đường dây nóng, trình bày: ",
    "[Tổng đài ghi nhận] ",
)
OLD_NAME_MENTIONS = (
    "Tôi ở {old_district}{old_prov_part} cũ (nay là {ward}). ",
    "Địa chỉ: {hamlet}, {old_district} cũ. ",
    "(Khu vực {old_district} cũ) ",
    "Nhà tôi thuộc {old_district} trước đây. ",
)
CHAT_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "không": ("ko", "k", "hông", "ko"),
    "được": ("dc", "đc"),
    "gì": ("j",),
    "người": ("ng",),
    "bạn": ("bn",),
    "với": ("vs",),
    "vậy": ("v",),
    "rồi": ("r",),
    "biết": ("bít",),
    "mọi người": ("mn",),
    "anh chị": ("a/c",),
    "trả lời": ("tl",),
}
ATTACHMENTS = (
    ("anh-hien-truong.jpg", "image/jpeg"),
    ("IMG_{stamp}.jpg", "image/jpeg"),
    ("anh-chup-man-hinh.png", "image/png"),
    ("video-hien-truong.mp4", "video/mp4"),
    ("don-kien-nghi.pdf", "application/pdf"),
)


def paragraphs(block: str) -> list[str]:
    """Split a text block on blank lines and undo the source wrapping."""
    return [" ".join(p.split()) for p in block.strip().split("\n\n")]


def weighted(rng: random.Random, mix: Mix) -> str:
    """Pick one label from ``(label, weight)`` pairs."""
    labels = [m[0] for m in mix]
    return rng.choices(labels, weights=[m[1] for m in mix])[0]


def strip_diacritics(text: str) -> str:
    """Type the text the way a phone without a Vietnamese keyboard would."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def chat_abbreviate(text: str, rng: random.Random) -> str:
    """Replace some common words by chat abbreviations (ko, dc, j, ng, bn, vs...)."""
    for word in sorted(CHAT_ABBREVIATIONS, key=len, reverse=True):
        options = CHAT_ABBREVIATIONS[word]

        def swap(match: re.Match[str], options: tuple[str, ...] = options) -> str:
            return rng.choice(options) if rng.random() < 0.75 else match.group(0)

        text = re.sub(rf"\b{word}\b", swap, text)
    return text


# ---------------------------------------------------------------------------
# Fake personal data (random; not real people)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """An invented sender."""

    name: str
    female: bool
    birth_year: int


def make_person(rng: random.Random, female: bool | None = None) -> Person:
    """Invent a Vietnamese full name (random sex unless ``female`` is given)."""
    if female is None:
        female = rng.random() < 0.5
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return Person(f"{rng.choice(SURNAMES)} {middle} {given}", female, rng.randint(1950, 2004))


def digits(rng: random.Random, n: int) -> str:
    """``n`` random decimal digits."""
    return "".join(rng.choice("0123456789") for _ in range(n))


def mobile_number(rng: random.Random) -> str:
    """A fake 10-digit mobile number, e.g. ``0912345678``."""
    return rng.choice(MOBILE_PREFIXES) + digits(rng, 7)


def written_phone(rng: random.Random, *, landline: bool = True) -> str:
    """A fake phone number in one of the ways people type them."""
    number = mobile_number(rng)
    style = rng.randrange(6 if landline else 5)
    if style == 0:
        return number
    if style == 1:
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    if style == 2:
        return f"{number[:4]}.{number[4:7]}.{number[7:]}"
    if style == 3:
        return f"+84 {number[1:4]} {number[4:7]} {number[7:]}"
    if style == 4:
        return f"+84{number[1:]}"
    code = rng.choice(LANDLINE_CODES)
    if len(code) == 3:
        return f"({code}) {digits(rng, 4)} {digits(rng, 4)}"
    return f"({code}) {digits(rng, 3)} {digits(rng, 4)}"


def cccd_number(rng: random.Random, person: Person) -> str:
    """A fake 12-digit citizen ID: province code, sex/century digit, year, serial."""
    century = 0 if person.birth_year < 2000 else 2
    sex = century + (1 if person.female else 0)
    return f"{rng.choice(CCCD_PREFIXES)}{sex}{person.birth_year % 100:02d}{digits(rng, 6)}"


def licence_plate(rng: random.Random) -> str:
    """A fake licence plate: car (``51F-123.45``, ``29A-12345``) or motorbike style."""
    code = rng.choice(PLATE_CODES)
    letter = rng.choice("ABCDEFGHKLMNPSTUVX")
    style = rng.randrange(3)
    if style == 0:
        return f"{code}{letter}-{digits(rng, 3)}.{digits(rng, 2)}"
    if style == 1:
        return f"{code}{letter}-{digits(rng, 5)}"
    return f"{code}-{letter}{rng.randint(1, 9)} {digits(rng, 3)}.{digits(rng, 2)}"


def email_address(rng: random.Random, person: Person) -> str:
    """A fake address on a reserved ``example.*`` domain."""
    parts = strip_diacritics(person.name).lower().split()
    style = rng.randrange(4)
    if style == 0:
        local = "".join(parts) + str(person.birth_year % 100)
    elif style == 1:
        local = f"{parts[-1]}.{parts[0]}{rng.randint(1, 99)}"
    elif style == 2:
        local = "".join(p[0] for p in parts[:-1]) + parts[-1] + str(person.birth_year)
    else:
        local = f"{parts[-1]}{parts[0]}_{digits(rng, 3)}"
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def alley_word(place: Place) -> str:
    """``ngõ`` in the north, ``kiệt`` in Huế / Đà Nẵng, ``hẻm`` in the south."""
    if place.province in KIET:
        return "kiệt"
    return "hẻm" if place.south else "ngõ"


def house_address(rng: random.Random, place: Place, *, old_style: bool = False) -> str:
    """A fake house-level address in the ward, or in pre-2025 names."""
    street = rng.choice(STREETS)
    if place.is_commune:
        head = f"{hamlet_name(rng, place)}"
    elif place.south and rng.random() < 0.5:
        head = f"số {rng.randint(2, 250)}/{rng.randint(1, 60)} {alley_word(place)} {street}"
    else:
        head = f"số {rng.randint(2, 80)} {alley_word(place)} {rng.randint(2, 400)} đường {street}"
    if old_style:
        return f"{head}, {lower_type(place.old_district)}, {lower_type(place.old_province)}"
    return f"{head}, {place.ward}, {place.province}"


def hamlet_name(rng: random.Random, place: Place) -> str:
    """A hamlet / residential group label that fits the ward type and region."""
    if place.is_commune:
        word = "ấp" if place.south else "thôn"
        if rng.random() < 0.5:
            return f"{word} {rng.randint(1, 12)}"
        return f"{word} {rng.choice(VILLAGE_NAMES)}"
    word = "khu phố" if place.south else "tổ dân phố"
    return f"{word} {rng.randint(1, 25)}"


def pii_snippet(rng: random.Random, place: Place, person: Person) -> str:
    """One to three sentences carrying personal data for the redaction demos."""
    kinds = rng.sample(
        ("phone", "phone", "cccd", "cmnd", "email", "plate", "address", "name", "relative"),
        k=rng.choice((1, 1, 2, 2, 3)),
    )
    out: list[str] = []
    for kind in kinds:
        if kind == "phone":
            if rng.random() < 0.2:
                out.append(f"Zalo {written_phone(rng, landline=False)} nhé.")
            else:
                out.append(
                    rng.choice(
                        (
                            "SĐT liên hệ: {x}.",
                            "Có gì gọi lại cho tôi số {x}.",
                            "Số điện thoại của tôi là {x}.",
                            "Liên hệ {x} (giờ hành chính).",
                        )
                    ).format(x=written_phone(rng))
                )
        elif kind == "cccd":
            out.append(
                rng.choice(
                    (
                        "Tôi là {n}, CCCD số {x}.",
                        "Người phản ánh: {n}, số căn cước {x}.",
                        "CCCD: {x}.",
                    )
                ).format(n=person.name, x=cccd_number(rng, person))
            )
        elif kind == "cmnd":
            out.append(f"CMND cũ của tôi số {rng.choice('0123')}{digits(rng, 8)}.")
        elif kind == "email":
            out.append(
                rng.choice(
                    (
                        "Email: {x}.",
                        "Xin phản hồi qua mail {x}.",
                        "Tôi gửi kèm ảnh qua {x}.",
                    )
                ).format(x=email_address(rng, person))
            )
        elif kind == "plate":
            out.append(
                rng.choice(
                    (
                        "Xe biển số {x} thường xuyên vi phạm.",
                        "Biển kiểm soát xe liên quan: {x}.",
                        "Tôi đi xe máy biển {x}.",
                    )
                ).format(x=licence_plate(rng))
            )
        elif kind == "address":
            old = rng.random() < 0.35
            out.append(f"Nhà tôi ở {house_address(rng, place, old_style=old)}.")
        elif kind == "name":
            out.append(
                rng.choice(("Tôi là {n}.", "Tôi tên là {n}, sinh năm {y}.")).format(
                    n=person.name, y=person.birth_year
                )
            )
        else:
            other = make_person(rng)
            kin = "bà" if other.female else "ông"
            mother = make_person(rng, female=True)
            out.append(
                rng.choice(
                    (
                        f"Mẹ tôi là bà {mother.name}, {rng.randint(70, 92)} tuổi.",
                        f"Hàng xóm là {kin} {other.name} cũng bị như vậy.",
                        f"Tổ trưởng là {kin} {other.name} đã biết việc này.",
                        f"Tôi là {person.name}, con {kin} {other.name}.",
                    )
                )
            )
    return " ".join(out)


def make_contact(rng: random.Random, place: Place | None, person: Person) -> dict[str, Any]:
    """A ``contact`` object; any field may be null."""
    contact: dict[str, Any] = {
        "name": person.name if rng.random() < 0.85 else None,
        "phone": mobile_number(rng) if rng.random() < 0.7 else None,
        "email": email_address(rng, person) if rng.random() < 0.35 else None,
        "address": None,
    }
    if place is not None and rng.random() < 0.4:
        contact["address"] = house_address(rng, place, old_style=rng.random() < 0.4)
    if not any(contact.values()):
        contact["name"] = person.name
    return contact


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------


def all_days(first: date | None = None, last: date | None = None) -> list[date]:
    """Every day from ``first`` to ``last`` (the sample window by default)."""
    first, last = first or FIRST_DAY, last or LAST_DAY
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def at_tet(day: date) -> bool:
    """Whether ``day`` falls in the official Tết holiday."""
    return any(start <= day <= end for start, end in TET_HOLIDAYS)


def pick_day(rng: random.Random, channel: str, days: list[date] | None = None) -> date:
    """A day of ``days`` (the sample window by default); fewer submissions at weekends except on
    social media, and far fewer during Tết."""
    days = days or all_days()
    weights = []
    for d in days:
        if d.weekday() < 5:
            weight = 1.0
        elif channel == "social_media":
            weight = 0.9
        else:
            weight = 0.55 if d.weekday() == 5 else 0.4
        if at_tet(d):
            weight *= 0.5 if channel == "social_media" else 0.15
        weights.append(weight)
    return rng.choices(days, weights=weights)[0]


def at_hour(rng: random.Random, day: date, hours: tuple[float, ...]) -> datetime:
    """A time on ``day`` with the hour drawn from ``hours`` weights."""
    hour = rng.choices(range(24), weights=hours)[0]
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=TZ)


def spike_time(
    rng: random.Random, first: str, day_weights: tuple[float, ...], channel: str, *, emergency: bool = False
) -> datetime:
    """A time inside a spike that starts on ISO date ``first``."""
    start = date.fromisoformat(first)
    offset = rng.choices(range(len(day_weights)), weights=day_weights)[0]
    hours = HOURS_EMERGENCY if emergency else CHANNEL_HOURS[channel]
    return at_hour(rng, start + timedelta(days=offset), hours)


# ---------------------------------------------------------------------------
# Row assembly
# ---------------------------------------------------------------------------


def pick_place(rng: random.Random, province: str | None = None, wards: tuple[str, ...] = ()) -> Place:
    """A locality, weighted by province size unless a province/wards are given."""
    rows = [Place(*r) for r in LOCALITIES]
    if wards:
        rows = [p for p in rows if p.ward in wards and p.province == province]
        return rng.choice(rows)
    if province is None:
        provinces = sorted({p.province for p in rows})
        province = rng.choices(provinces, weights=[PROVINCE_WEIGHTS.get(p, 2) for p in provinces])[0]
    return rng.choice([p for p in rows if p.province == province])


def fill_values(rng: random.Random, place: Place, when: datetime) -> dict[str, str]:
    """Values for every placeholder used in the texts."""
    short = strip_type(place.province)
    streets = rng.sample(STREETS, 2)
    old_prov = lower_type(place.old_province)
    if place.province == "Thành phố Hà Nội" and place.old_district in HA_TAY_DISTRICTS:
        old_prov = "tỉnh Hà Tây"
    before = when.date() - timedelta(days=rng.randint(8, 20))
    school_kind = rng.choice(("Tiểu học", "THCS", "THPT", "Mầm non"))
    school = f"{school_kind} {rng.choice((place.ward_name, rng.choice(STREETS)))}"
    if place.province.startswith("Tỉnh"):
        hospital = rng.choice(
            (f"Bệnh viện Đa khoa tỉnh {short}", f"Trung tâm Y tế {lower_type(place.old_district)}")
        )
    else:
        hospital = rng.choice(
            (f"Bệnh viện Đa khoa thành phố {short}", f"bệnh viện {lower_type(place.old_district)}")
        )
    amount = rng.choice(("2", "2,5", "3", "3,2", "4", "4,5", "5", "6"))
    return {
        "ward": lower_type(place.ward),
        "ward_cap": place.ward,
        "ward_name": place.ward_name,
        "prov": prov_in_text(place.province, rng),
        "prov_cap": place.province.replace("Thành phố", "thành phố").replace("Tỉnh", "tỉnh"),
        "old_district": lower_type(place.old_district),
        "old_prov": old_prov,
        "old_prov_part": "" if place.old_province == place.province else f", {old_prov}",
        "hamlet": hamlet_name(rng, place),
        "street": streets[0],
        "street2": streets[1],
        "school": school,
        "hospital": hospital,
        "crop": rng.choice(CROPS.get(place.province, DEFAULT_CROPS)),
        "n": str(rng.randint(3, 7)),
        "n_small": str(rng.randint(2, 3)),
        "n_days": str(rng.randint(3, 15)),
        "n_weeks": str(rng.randint(2, 6)),
        "n_months": str(rng.randint(2, 9)),
        "n_years": str(rng.randint(2, 9)),
        "n_hh": str(rng.randint(15, 180)),
        "km": str(rng.randint(10, 28)),
        "age": str(rng.randint(75, 93)),
        "class_size": str(rng.randint(46, 58)),
        "bus": f"{rng.randint(1, 150):02d}",
        "amount": amount,
        "amount_big": rng.choice(("8", "10", "12", "15")),
        "late": rng.choice(("11 giờ đêm", "12 giờ đêm", "gần 1 giờ sáng", "23h")),
        "date": f"{before.day}/{before.month}",
    }


def english_values(rng: random.Random, place: Place) -> dict[str, str]:
    """Placeholder values for the English texts."""
    city = {
        "Thành phố Hồ Chí Minh": "Ho Chi Minh City",
        "Thành phố Hà Nội": "Hanoi",
        "Thành phố Đà Nẵng": "Da Nang",
        "Tỉnh Khánh Hòa": "Nha Trang",
        "Tỉnh Lâm Đồng": "Da Lat",
        "Tỉnh Quảng Ninh": "Ha Long",
    }[place.province]
    return {
        "area": f"{strip_diacritics(place.ward_name)} ward, {city}",
        "city": city,
        "street": strip_diacritics(rng.choice(STREETS)),
    }


def decorate(text: str, channel: str, rng: random.Random, values: dict[str, str]) -> str:
    """Add channel-typical openers, closers or operator prefixes."""
    if channel in ("web_form", "email") and rng.random() < 0.55:
        opener = rng.choice(FORMAL_OPENERS).format_map(values)
        closer = rng.choice(FORMAL_CLOSERS)
        sep = "\n" if channel == "email" or rng.random() < 0.6 else " "
        if rng.random() < 0.7:
            return f"{opener}\n{text}{sep}{closer}"
        return f"{opener}\n{text}"
    if channel == "social_media":
        r = rng.random()
        if r < 0.35:
            return f"{rng.choice(SOCIAL_OPENERS).format_map(values)} {text}"
        if r < 0.65:
            return f"{text} {rng.choice(SOCIAL_CLOSERS)}"
        return text
    if channel == "hotline" and rng.random() < 0.5:
        return rng.choice(HOTLINE_PREFIXES) + text
    if channel == "open311" and rng.random() < 0.4:
        return f"{text} Vị trí: gần số {rng.randint(2, 300)} đường {values['street']}."
    return text


# Chance that a text is typed without diacritics, per channel (hotline: never).
STRIP_PROBABILITY: dict[str, float] = {
    "social_media": 0.34,
    "web_form": 0.14,
    "survey": 0.16,
    "api": 0.12,
    "open311": 0.12,
    "email": 0.04,
}


def typing_style(text: str, channel: str, rng: random.Random) -> tuple[str, bool]:
    """Maybe strip diacritics and/or use chat abbreviations; returns (text, stripped)."""
    if channel == "hotline":  # typed by an operator
        return text, False
    stripped = rng.random() < STRIP_PROBABILITY[channel]
    p_abbrev = 0.45 if stripped else (0.14 if channel == "social_media" else 0.02)
    if rng.random() < p_abbrev:
        text = chat_abbreviate(text, rng)
    if stripped:
        text = strip_diacritics(text)
    return text, stripped


def attachments_for(rng: random.Random, when: datetime, p: float) -> list[dict[str, Any]]:
    """Usually no attachment; sometimes one photo, video or PDF."""
    if rng.random() >= p:
        return []
    name, ctype = rng.choice(ATTACHMENTS)
    name = name.replace("{stamp}", when.strftime("%Y%m%d_%H%M%S"))
    low, high = (900_000, 9_500_000) if ctype == "video/mp4" else (45_000, 2_400_000)
    return [{"filename": name, "content_type": ctype, "size_bytes": rng.randint(low, high)}]


@dataclass
class Draft:
    """One submission before ids are assigned."""

    channel: str
    text: str
    received_at: datetime
    locality: str | None
    language_hint: str | None
    contact: dict[str, Any] | None
    attachments: list[dict[str, Any]]
    tag: str  # background/flood/water/school/campaign/rumour/english (not written out)
    pii: bool = False
    stripped: bool = False

    def row(self, source_id: str) -> dict[str, Any]:
        """The JSONL object, with exactly the documented keys."""
        return {
            "source_id": source_id,
            "channel": self.channel,
            "text": self.text,
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "locality": self.locality,
            "language_hint": self.language_hint,
            "contact": self.contact,
            "attachments": self.attachments,
        }


def vietnamese_draft(
    rng: random.Random,
    template: str,
    place: Place,
    channel: str,
    when: datetime,
    tag: str,
    *,
    p_pii: float = 0.075,
    p_attach: float = 0.03,
) -> Draft:
    """Fill a Vietnamese template and apply the per-row variations."""
    values = fill_values(rng, place, when)
    text = template.format_map(values)
    if channel == "survey" and rng.random() < 0.5:  # short free-text survey answers
        text = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if rng.random() < 0.1:
        text = rng.choice(OLD_NAME_MENTIONS).format_map(values) + text
    person = make_person(rng)
    pii = rng.random() < p_pii
    if pii:
        snippet = pii_snippet(rng, place, person)
        text = f"{snippet} {text}" if rng.random() < 0.3 else f"{text} {snippet}"
    text = decorate(text, channel, rng, values)
    text, stripped = typing_style(text, channel, rng)
    r = rng.random()
    if r < 0.84:
        locality: str | None = place.locality
    elif r < 0.9:
        locality = place.province
    else:
        locality = None
    hint = "vi" if rng.random() < (0.6 if stripped else 0.88) else None
    contact = make_contact(rng, place, person) if rng.random() < 0.58 else None
    return Draft(
        channel, text, when, locality, hint, contact, attachments_for(rng, when, p_attach), tag, pii, stripped
    )


def background_drafts(rng: random.Random, n: int, days: list[date] | None = None) -> list[Draft]:
    """Everyday submissions spread over ``days`` (the whole window by default)."""
    texts = {topic: paragraphs(block) for topic, block in TOPIC_TEXTS.items()}
    topics = sorted(texts)
    out = []
    for _ in range(n):
        topic = rng.choices(topics, weights=[TOPIC_WEIGHTS[t] for t in topics])[0]
        channel = weighted(rng, BACKGROUND_CHANNELS)
        when = at_hour(rng, pick_day(rng, channel, days), CHANNEL_HOURS[channel])
        place = pick_place(rng)
        p_attach = 0.07 if topic in ("environment", "traffic_transport") else 0.02
        out.append(
            vietnamese_draft(
                rng, rng.choice(texts[topic]), place, channel, when, "background", p_attach=p_attach
            )
        )
    return out


FLOOD_WARDS = (
    "Xã Lệ Thủy",
    "Xã Tân Mỹ",
    "Xã Kim Ngân",
    "Xã Cam Hồng",
    "Xã Hải Lăng",
    "Xã Vĩnh Định",
    "Xã Triệu Phong",
    "Phường Quảng Trị",
    "Phường Đông Hà",
    "Phường Đồng Hới",
    "Phường Ba Đồn",
    "Xã Tuyên Hóa",
)
WATER_WARDS = (
    "Phường Thanh Xuân",
    "Phường Khương Đình",
    "Phường Hoàng Mai",
    "Phường Định Công",
    "Phường Hà Đông",
    "Phường Kiến Hưng",
)
SCHOOL_WARDS = (
    "Phường Bàn Cờ",
    "Phường Gò Vấp",
    "Phường Bình Thạnh",
    "Phường Thủ Đức",
    "Phường Tân Bình",
    "Phường Chợ Lớn",
    "Phường Tân Hưng",
    "Phường Bình Tân",
    "Phường Dĩ An",
)


def recent_spike_starts() -> dict[str, datetime]:
    """When the two spikes the overview page explains begin, counted back from the sample's last day
    (so that they stay in its last two weeks when the demo's dates are shifted): the flood in
    Quảng Trị nine days before the end (three days long), the petition campaign three days before."""

    def at(days_before: int, hour: int, minute: int) -> datetime:
        day = LAST_DAY - timedelta(days=days_before)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)

    return {"flood": at(9, 0, 0), "campaign": at(3, 6, 40)}


def spike_drafts(
    rng: random.Random,
    block: str,
    n: int,
    province: str,
    wards: tuple[str, ...],
    mix: Mix,
    first: str,
    day_weights: tuple[float, ...],
    tag: str,
    *,
    emergency: bool = False,
    p_attach: float = 0.03,
) -> list[Draft]:
    """A burst of related submissions from a few wards over a few days."""
    texts = paragraphs(block)
    out = []
    for i in range(n):
        channel = weighted(rng, mix)
        when = spike_time(rng, first, day_weights, channel, emergency=emergency)
        place = pick_place(rng, province, wards)
        template = texts[i] if i < len(texts) else rng.choice(texts)
        out.append(vietnamese_draft(rng, template, place, channel, when, tag, p_attach=p_attach))
    return out


def campaign_drafts(rng: random.Random, n: int) -> list[Draft]:
    """~40 near-identical copies of one petition, distinct senders, within two days."""
    place = pick_place(rng, CAMPAIGN_PROVINCE, (CAMPAIGN_WARD,))
    start = recent_spike_starts()["campaign"]
    names: set[str] = set()
    out = []
    for i in range(n):
        person = make_person(rng)
        while person.name in names:
            person = make_person(rng)
        names.add(person.name)
        channel = weighted(rng, CAMPAIGN_CHANNELS)
        minutes = 0 if i == 0 else int(rng.triangular(0, 41 * 60, 14 * 60))
        when = (start + timedelta(minutes=minutes)).replace(second=rng.randrange(60))
        signature = ""
        if rng.random() < 0.5:
            hamlet = rng.choice(("thôn Phù Lãng", "thôn Đông", "thôn Trung", "thôn Nam"))
            signature = rng.choice(
                (
                    f"\n{person.name}, {hamlet}",
                    f" — {person.name}",
                    f"\nNgười ký: {person.name}",
                    f" (Ký tên: {person.name}, {hamlet})",
                )
            )
        text = CAMPAIGN_TEXT.format(
            opener=rng.choice(
                (
                    "",
                    "",
                    "",
                    "",
                    "Đồng ý! ",
                    "#KhongNhaMayRac ",
                    "Ký tên ủng hộ. ",
                    "Kính gửi UBND tỉnh Bắc Ninh, ",
                )
            ),
            firmly=rng.choice(("kiên quyết", "kiên quyết", "kiên quyết", "cương quyết", "đồng loạt")),
            plant=rng.choice(
                ("nhà máy xử lý rác thải", "nhà máy xử lý rác thải", "nhà máy xử lý rác", "nhà máy đốt rác")
            ),
            distance=rng.choice(("chưa đầy 500 m", "chưa đầy 500 m", "chưa tới 500m", "khoảng 500 mét")),
            households=rng.choice(
                ("hàng nghìn hộ dân.", "hàng nghìn hộ dân.", "hàng ngàn hộ dân.", "hàng nghìn hộ.")
            ),
            p2=rng.choice((".", ".", ".", "!", "!!!", "")),
            signature=signature,
        )
        stripped = rng.random() < 0.08
        if stripped:
            text = strip_diacritics(text)
        contact = make_contact(rng, place, person) if rng.random() < 0.9 else None
        if contact is not None:
            contact["name"] = person.name
        out.append(
            Draft(
                channel,
                text,
                when,
                place.locality if rng.random() < 0.9 else None,
                "vi" if rng.random() < 0.85 else None,
                contact,
                [],
                "campaign",
                pii=bool(signature),
                stripped=stripped,
            )
        )
    return out


def rumour_drafts(rng: random.Random) -> list[Draft]:
    """Circulating false claims that citizens repeat or ask about."""
    out = []
    for template, province, first, last in RUMOURS:
        channel = weighted(rng, RUMOUR_CHANNELS)
        if province:
            place = pick_place(rng, province)
            span = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
            when = spike_time(rng, first, (1,) * span, channel)
        else:
            place = pick_place(rng)
            when = at_hour(rng, pick_day(rng, channel), CHANNEL_HOURS[channel])
        out.append(vietnamese_draft(rng, template, place, channel, when, "rumour", p_pii=0.0, p_attach=0.1))
    return out


ENGLISH_WARDS: dict[str, tuple[str, ...]] = {
    "Thành phố Hồ Chí Minh": (
        "Phường Bến Thành",
        "Phường Sài Gòn",
        "Phường Bàn Cờ",
        "Phường Tân Hưng",
        "Phường Thủ Đức",
        "Phường Tam Thắng",
    ),
    "Thành phố Hà Nội": ("Phường Hoàn Kiếm", "Phường Ba Đình", "Phường Cầu Giấy", "Phường Long Biên"),
    "Thành phố Đà Nẵng": ("Phường Hải Châu", "Phường An Hải", "Phường Cẩm Lệ"),
    "Tỉnh Khánh Hòa": ("Phường Nha Trang",),
    "Tỉnh Lâm Đồng": ("Phường Xuân Hương - Đà Lạt",),
    "Tỉnh Quảng Ninh": ("Phường Hạ Long",),
}


def old_name_drafts(rng: random.Random) -> list[Draft]:
    """One submission per ``OLD_NAME_TEXTS`` entry, at a random time."""
    out = []
    for ward, province, text in OLD_NAME_TEXTS:
        channel = weighted(rng, BACKGROUND_CHANNELS)
        when = at_hour(rng, pick_day(rng, channel), CHANNEL_HOURS[channel])
        place = pick_place(rng, province, (ward,))
        out.append(vietnamese_draft(rng, text, place, channel, when, "old_names"))
    return out


def english_drafts(rng: random.Random) -> list[Draft]:
    """Messages in English from foreign residents."""
    provinces = (
        "Thành phố Hồ Chí Minh",
        "Thành phố Hồ Chí Minh",
        "Thành phố Hà Nội",
        "Thành phố Hà Nội",
        "Thành phố Đà Nẵng",
        "Tỉnh Khánh Hòa",
        "Tỉnh Lâm Đồng",
        "Tỉnh Quảng Ninh",
    )
    out = []
    for template in paragraphs(ENGLISH_TEXTS):
        channel = weighted(rng, ENGLISH_CHANNELS)
        province = rng.choice(provinces)
        place = pick_place(rng, province, ENGLISH_WARDS[province])
        when = at_hour(rng, pick_day(rng, channel), CHANNEL_HOURS[channel])
        text = template.format_map(english_values(rng, place))
        contact = None
        if rng.random() < 0.6:
            contact = {
                "name": None,
                "phone": None,
                "address": None,
                "email": f"resident{digits(rng, 3)}@{rng.choice(EMAIL_DOMAINS)}",
            }
        out.append(
            Draft(
                channel,
                text,
                when,
                place.locality if rng.random() < 0.8 else None,
                "en" if rng.random() < 0.8 else None,
                contact,
                attachments_for(rng, when, 0.1),
                "english",
            )
        )
    return out


def build_drafts(seed: int = SEED) -> list[Draft]:
    """Generate all drafts (with their bookkeeping tags), sorted by time."""
    rng = random.Random(seed)
    drafts: list[Draft] = []
    drafts += spike_drafts(
        rng,
        FLOOD_TEXTS,
        45,
        "Tỉnh Quảng Trị",
        FLOOD_WARDS,
        FLOOD_CHANNELS,
        recent_spike_starts()["flood"].date().isoformat(),
        (12, 20, 13),
        "flood",
        emergency=True,
        p_attach=0.2,
    )
    drafts += spike_drafts(
        rng,
        WATER_OUTAGE_TEXTS,
        25,
        "Thành phố Hà Nội",
        WATER_WARDS,
        WATER_CHANNELS,
        "2026-09-23",
        (8, 12, 5),
        "water_outage",
    )
    drafts += spike_drafts(
        rng,
        SCHOOL_FEE_TEXTS,
        20,
        "Thành phố Hồ Chí Minh",
        SCHOOL_WARDS,
        SCHOOL_CHANNELS,
        "2026-09-07",
        (9, 7, 4),
        "school_fees",
    )
    drafts += campaign_drafts(rng, 40)
    drafts += rumour_drafts(rng)
    drafts += english_drafts(rng)
    drafts += old_name_drafts(rng)
    drafts += background_drafts(rng, N_ROWS - len(drafts))
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i].received_at, i))
    return [drafts[i] for i in order]


def history_drafts(seed: int = HISTORY_SEED) -> list[Draft]:
    """The everyday submissions of the year before the sample window (from ``HISTORY_FIRST_DAY``),
    at the window's own daily rate of spread-out submissions (all but the spikes, the campaign and
    the rumours tied to a place and dates), sorted by time."""
    days = all_days(HISTORY_FIRST_DAY, FIRST_DAY - timedelta(days=1))
    tied = {"flood", "water_outage", "school_fees", "campaign"}
    spread = N_ROWS - sum(d.tag in tied for d in build_drafts()) - sum(1 for r in RUMOURS if r[1])
    n = round(spread * len(days) / len(all_days()))
    drafts = background_drafts(random.Random(seed), n, days)
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i].received_at, i))
    return [drafts[i] for i in order]


def build(seed: int = SEED) -> list[dict[str, Any]]:
    """All rows, sorted by time, with sequential ``demo-vi-NNNN`` ids."""
    return [d.row(f"demo-vi-{k + 1:04d}") for k, d in enumerate(build_drafts(seed))]


def build_history(seed: int = HISTORY_SEED) -> list[dict[str, Any]]:
    """The year before's rows, sorted by time, with sequential ``demo-vi-history-NNNN`` ids."""
    return [d.row(f"demo-vi-history-{k + 1:04d}") for k, d in enumerate(history_drafts(seed))]


def write(rows: list[dict[str, Any]], path: Path) -> None:
    """``rows`` as JSON lines."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {path}")


def main() -> None:
    """Write the JSONL files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_PATH, help="output .jsonl path")
    parser.add_argument(
        "--history-out", type=Path, default=HISTORY_PATH, help="the year before's .jsonl path"
    )
    args = parser.parse_args()
    write(build(), args.out)
    write(build_history(), args.history_out)


if __name__ == "__main__":
    main()
