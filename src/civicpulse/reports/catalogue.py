"""The report's strings in Vietnamese (the default) and English, and number and date formats.

The dashboard's catalogue (``web/i18n.py``) sits in the web layer, above this one, so the report
keeps its own few strings here.
"""

from __future__ import annotations

from datetime import date, datetime

from civicpulse.domain import CHANNEL_NAMES
from civicpulse.intake.mapping import LOCAL_TZ

LANGUAGES = ("vi", "en")

VI: dict[str, str] = {
    "title": "Báo cáo tình hình ý kiến người dân",
    "period": "Kỳ báo cáo",
    "previous": "So với kỳ trước",
    "province": "Địa bàn",
    "all_provinces": "Tất cả tỉnh, thành phố",
    "generated": "Lập lúc",
    "privacy": "Nhóm có ít hơn {k} người gửi khác nhau được ẩn và ghi là “< {k}”.",
    "volumes": "Số lượng phản ánh, kiến nghị",
    "total": "Tổng số",
    "senders": "Người gửi",
    "group": "Nhóm",
    "current": "Kỳ này",
    "before": "Kỳ trước",
    "change": "Thay đổi",
    "by_topic": "Theo lĩnh vực",
    "by_province": "Theo tỉnh, thành phố",
    "by_channel": "Theo kênh tiếp nhận",
    "trend": "Diễn biến theo thời gian",
    "unit.1": "theo ngày",
    "unit.7": "theo tuần (7 ngày)",
    "unit.30": "theo tháng (30 ngày)",
    "unit.31": "theo tháng (31 ngày)",
    "themes": "Vấn đề nổi bật",
    "new_themes": "Vấn đề mới xuất hiện",
    "new": "Mới",
    "theme_senders": "{n} người gửi · {items} phản ánh",
    "keywords": "Từ khóa",
    "themes_empty": "Không có vấn đề nào đủ {k} người gửi trong kỳ.",
    "themes_none": "Chưa có vấn đề nào được lưu cho kỳ lớn như thế này: chạy `civicpulse themes` để lưu "
    "một lần phân nhóm.",
    "themes_suppressed": "{n} vấn đề có ít hơn {k} người gửi đã được ẩn.",
    "new_empty": "Không có vấn đề mới trong kỳ.",
    "warnings": "Cảnh báo và dự báo",
    "rumours": "Tin đồn và phản hồi",
    "not_available": "Chưa có: tính năng này chưa được triển khai.",
    "agencies": "Kết quả xử lý của từng cơ quan",
    "agency": "Cơ quan",
    "received": "Tiếp nhận",
    "answered_on_time": "Trả lời đúng hạn",
    "overdue": "Quá hạn",
    "median_days": "Số ngày trả lời (trung vị)",
    "satisfaction": "Mức hài lòng",
    "no_data": "Chưa có dữ liệu",
    "agencies_empty": "Không có hồ sơ nào được tiếp nhận, trả lời hay quá hạn trong kỳ.",
    "agencies_note": "Quá hạn: hồ sơ đang xử lý đã qua hạn vào cuối kỳ. Số ngày tính theo ngày lịch từ "
    "khi tiếp nhận đến khi trả lời.",
    "unknown_topic": "Chưa phân loại",
    "unknown_province": "Chưa xác định",
    "footer": "CivicPulse — tiếp nhận và phân tích phản ánh, kiến nghị của người dân",
}

EN: dict[str, str] = {
    "title": "Situation report on citizens' feedback",
    "period": "Period",
    "previous": "Compared with",
    "province": "Area",
    "all_provinces": "All provinces",
    "generated": "Generated",
    "privacy": "Groups of fewer than {k} distinct senders are suppressed and shown as “< {k}”.",
    "volumes": "Volumes",
    "total": "Total",
    "senders": "Senders",
    "group": "Group",
    "current": "This period",
    "before": "Previous period",
    "change": "Change",
    "by_topic": "By topic",
    "by_province": "By province",
    "by_channel": "By channel",
    "trend": "Over time",
    "unit.1": "by day",
    "unit.7": "by week (7 days)",
    "unit.30": "by month (30 days)",
    "unit.31": "by month (31 days)",
    "themes": "Top themes",
    "new_themes": "New themes",
    "new": "New",
    "theme_senders": "{n} senders · {items} submissions",
    "keywords": "Keywords",
    "themes_empty": "No theme has {k} or more senders in this period.",
    "themes_none": "No themes are stored for a period this large: run `civicpulse themes` to store a run.",
    "themes_suppressed": "{n} themes of fewer than {k} senders are held back.",
    "new_empty": "No new themes in this period.",
    "warnings": "Warnings and forecasts",
    "rumours": "Rumours and responses",
    "not_available": "Not available yet.",
    "agencies": "Each agency's record",
    "agency": "Agency",
    "received": "Received",
    "answered_on_time": "Answered on time",
    "overdue": "Overdue",
    "median_days": "Median days to answer",
    "satisfaction": "Citizens' satisfaction",
    "no_data": "no data",
    "agencies_empty": "No case was received, answered or overdue in this period.",
    "agencies_note": "Overdue: cases still open past their deadline at the end of the period. Days are "
    "calendar days from receipt to answer.",
    "unknown_topic": "Not classified",
    "unknown_province": "Unknown",
    "footer": "CivicPulse — intake and analysis of citizens' feedback",
}


class Strings:
    """The report's strings and formats in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]
        self._table = EN if self.lang == "en" else VI

    def __call__(self, key: str, **values: object) -> str:
        text = self._table[key]
        return text.format(**values) if values else text

    def channel(self, code: str | None) -> str:
        """A channel's name."""
        return CHANNEL_NAMES[self.lang].get(code or "", code or "")

    def number(self, value: float, digits: int = 0) -> str:
        """A number with the language's separators."""
        text = f"{value:,.{digits}f}"
        if self.lang == "vi":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def change(self, current: int, previous: int) -> str:
        """The change from ``previous`` to ``current`` in percent ("—" without a base)."""
        if previous == 0:
            return "—"
        share = (current - previous) / previous * 100
        return ("+" if share > 0 else "") + self.number(share, 1) + " %"

    def day(self, value: date) -> str:
        """A day: dd/mm/yyyy in Vietnamese, ISO in English."""
        return value.strftime("%d/%m/%Y") if self.lang == "vi" else value.isoformat()

    def moment(self, value: datetime) -> str:
        """A time, in Vietnam."""
        local = value.astimezone(LOCAL_TZ)
        return local.strftime("%d/%m/%Y %H:%M") if self.lang == "vi" else local.strftime("%Y-%m-%d %H:%M")
