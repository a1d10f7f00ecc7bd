"""UI strings in Vietnamese (the default) and English, and how a request picks its language."""

from __future__ import annotations

from starlette.requests import Request

DEFAULT_LANGUAGE = "vi"
LANGUAGE_KEY = "lang"

_CHANNELS_VI = {
    "web_form": "Biểu mẫu web",
    "api": "API",
    "open311": "Open311",
    "email": "Thư điện tử",
    "hotline": "Đường dây nóng",
    "social_media": "Mạng xã hội",
    "survey": "Khảo sát",
    "file_import": "Nhập từ tệp",
}
_CHANNELS_EN = {
    "web_form": "Web form",
    "api": "API",
    "open311": "Open311",
    "email": "Email",
    "hotline": "Hotline",
    "social_media": "Social media",
    "survey": "Survey",
    "file_import": "File import",
}

VI: dict[str, str] = {
    "app.tagline": "Lắng nghe ý kiến người dân",
    "app.footer": "CivicPulse — tiếp nhận và phân tích phản ánh, kiến nghị của người dân",
    "nav.inbox": "Hộp thư phản ánh",
    "nav.submit": "Gửi phản ánh",
    "nav.track": "Tra cứu",
    "nav.login": "Đăng nhập",
    "nav.logout": "Đăng xuất",
    "nav.language": "Ngôn ngữ",
    "nav.main": "Điều hướng chính",
    "lang.vi": "Tiếng Việt",
    "lang.en": "English",
    "login.title": "Đăng nhập",
    "login.intro": "Dành cho cán bộ tiếp nhận và phân tích phản ánh.",
    "login.email": "Email",
    "login.password": "Mật khẩu",
    "login.submit": "Đăng nhập",
    "login.failed": "Email hoặc mật khẩu không đúng.",
    "inbox.title": "Hộp thư phản ánh",
    "inbox.count": "{count} phản ánh",
    "inbox.empty": "Không có phản ánh nào khớp với bộ lọc.",
    "inbox.open": "Mở phản ánh #{id}",
    "filter.label": "Bộ lọc",
    "filter.channel": "Kênh",
    "filter.status": "Trạng thái",
    "filter.from": "Từ ngày",
    "filter.to": "Đến ngày",
    "filter.q": "Tìm trong nội dung",
    "filter.q_placeholder": "Từ khóa…",
    "filter.all": "Tất cả",
    "filter.apply": "Lọc",
    "filter.reset": "Xóa bộ lọc",
    "col.received": "Thời điểm nhận",
    "col.channel": "Kênh",
    "col.status": "Trạng thái",
    "col.language": "Ngôn ngữ",
    "col.locality": "Địa bàn",
    "col.text": "Nội dung",
    "col.field": "Trường",
    "col.value": "Giá trị",
    "col.when": "Thời điểm",
    "col.event": "Sự kiện",
    "col.actor": "Người thực hiện",
    "col.detail": "Chi tiết",
    "pager.next": "Trang sau →",
    "pager.first": "← Trang đầu",
    "status.open": "Đã tiếp nhận",
    "status.in_progress": "Đang xử lý",
    "status.closed": "Đã xử lý xong",
    "analysis.pending": "Đang chờ phân tích",
    "analysis.done": "Đã phân tích",
    "analysis.failed": "Phân tích không thành công",
    "sub.title": "Phản ánh #{id}",
    "sub.back": "← Về hộp thư",
    "sub.text": "Nội dung",
    "corr.title": "Hiệu chỉnh của chuyên viên",
    "corr.topic": "Lĩnh vực",
    "corr.sentiment": "Sắc thái",
    "corr.toxicity": "Mức độ xúc phạm",
    "corr.keep": "— giữ nguyên —",
    "corr.save": "Lưu hiệu chỉnh",
    "corr.current": "Đã hiệu chỉnh",
    "sentiment.negative": "Tiêu cực",
    "sentiment.neutral": "Trung tính",
    "sentiment.positive": "Tích cực",
    "text.awaiting_redaction": "Nội dung sẽ hiển thị sau khi ẩn thông tin cá nhân.",
    "text.redacted_note": "Thông tin cá nhân đã được ẩn; chỉ cơ quan xử lý xem được bản gốc.",
    "sub.details": "Thông tin",
    "sub.tracking_code": "Mã tra cứu",
    "sub.channel": "Kênh",
    "sub.status": "Trạng thái",
    "sub.analysis_state": "Phân tích",
    "sub.received": "Thời điểm nhận",
    "sub.locality": "Địa bàn",
    "sub.agency": "Cơ quan xử lý",
    "sub.service_code": "Mã dịch vụ",
    "sub.source_id": "Mã nguồn",
    "sub.has_contact": "Có thông tin liên hệ",
    "sub.attachments": "Tệp đính kèm",
    "sub.no_attachments": "Không có tệp đính kèm.",
    "sub.annotations": "Kết quả phân tích",
    "sub.no_annotations": "Chưa có kết quả phân tích.",
    "sub.history": "Lịch sử",
    "att.filename": "Tên tệp",
    "att.type": "Loại",
    "att.size": "Kích thước (byte)",
    "event.received": "Tiếp nhận",
    "event.analysed": "Đã phân tích",
    "event.status_changed": "Đổi trạng thái",
    "event.assigned": "Giao xử lý",
    "yes": "Có",
    "no": "Không",
    "submit.title": "Gửi phản ánh, kiến nghị",
    "submit.intro": "Phản ánh của bạn được chuyển tới cơ quan có thẩm quyền. "
    "Bạn sẽ nhận được mã tra cứu để theo dõi tình trạng xử lý.",
    "submit.text": "Nội dung phản ánh",
    "submit.text_help": "Mô tả sự việc, thời gian và địa điểm càng cụ thể càng tốt.",
    "submit.locality": "Địa điểm (không bắt buộc)",
    "submit.locality_placeholder": "Ví dụ: Phường Bến Nghé, TP. Hồ Chí Minh",
    "submit.contact": "Thông tin liên hệ (không bắt buộc)",
    "submit.contact_help": "Chỉ cơ quan xử lý được xem; thông tin được mã hóa khi lưu trữ.",
    "submit.name": "Họ và tên",
    "submit.phone": "Số điện thoại",
    "submit.email": "Email",
    "submit.send": "Gửi phản ánh",
    "submit.errors": "Vui lòng kiểm tra lại:",
    "err.text_empty": "Nội dung phản ánh không được để trống.",
    "err.text_long": "Nội dung phản ánh quá dài (tối đa {max} ký tự).",
    "err.control": "{field}: có ký tự điều khiển không hợp lệ.",
    "err.too_long": "{field}: quá dài (tối đa {max} ký tự).",
    "err.invalid": "{field}: giá trị không hợp lệ.",
    "thanks.title": "Cảm ơn bạn đã gửi phản ánh",
    "thanks.code": "Mã tra cứu của bạn",
    "thanks.keep": "Hãy lưu lại mã này để theo dõi tình trạng xử lý.",
    "thanks.duplicate": "Nội dung này đã được tiếp nhận trước đó; đây là mã tra cứu của lần gửi đó.",
    "thanks.track": "Xem tình trạng xử lý",
    "thanks.again": "Gửi phản ánh khác",
    "track.title": "Tra cứu phản ánh",
    "track.intro": "Nhập mã tra cứu bạn nhận được khi gửi phản ánh (dạng CP-XXXX-XXXX).",
    "track.code": "Mã tra cứu",
    "track.submit": "Tra cứu",
    "track.status": "Tình trạng",
    "track.received": "Ngày tiếp nhận",
    "track.updated": "Cập nhật lần cuối",
    "track.agency": "Cơ quan xử lý",
    "track.agency_none": "Chưa phân công",
    "track.unknown": "Không tìm thấy phản ánh nào có mã tra cứu này. Vui lòng kiểm tra lại mã.",
    "track.another": "Tra cứu mã khác",
    "error.title": "Đã có lỗi xảy ra",
    "error.400": "Yêu cầu không hợp lệ",
    "error.401": "Cần đăng nhập",
    "error.403": "Không có quyền truy cập",
    "error.404": "Không tìm thấy",
    "error.405": "Phương thức không được hỗ trợ",
    "error.413": "Dữ liệu gửi lên quá lớn",
    "error.422": "Dữ liệu không hợp lệ",
    "error.429": "Quá nhiều yêu cầu",
    "error.500": "Lỗi hệ thống",
    "error.help.429": "Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng thử lại sau ít phút.",
    "error.help.500": "Lỗi đã được ghi lại. Vui lòng thử lại sau.",
    "error.home": "Về trang chủ",
    "error.csrf": "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang rồi gửi lại.",
    "error.other_agency": "Phản ánh này thuộc cơ quan khác.",
    "error.no_submission": "Không tìm thấy phản ánh #{id}.",
    "error.bad_channel": "Kênh không hợp lệ: {value}",
    "error.bad_status": "Trạng thái không hợp lệ: {value}",
    "error.bad_date": "Ngày không hợp lệ: {value} (dạng YYYY-MM-DD)",
    "none": "—",
    **{f"channel.{key}": label for key, label in _CHANNELS_VI.items()},
}

EN: dict[str, str] = {
    "app.tagline": "Listening to citizens",
    "app.footer": "CivicPulse — intake and analysis of citizen feedback",
    "nav.inbox": "Inbox",
    "nav.submit": "Send feedback",
    "nav.track": "Track",
    "nav.login": "Sign in",
    "nav.logout": "Sign out",
    "nav.language": "Language",
    "nav.main": "Main navigation",
    "lang.vi": "Tiếng Việt",
    "lang.en": "English",
    "login.title": "Sign in",
    "login.intro": "For staff who receive and analyse citizen feedback.",
    "login.email": "Email",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "The email or password is incorrect.",
    "inbox.title": "Inbox",
    "inbox.count": "{count} submissions",
    "inbox.empty": "No submissions match the filters.",
    "inbox.open": "Open submission #{id}",
    "filter.label": "Filters",
    "filter.channel": "Channel",
    "filter.status": "Status",
    "filter.from": "From",
    "filter.to": "To",
    "filter.q": "Search text",
    "filter.q_placeholder": "Keywords…",
    "filter.all": "All",
    "filter.apply": "Filter",
    "filter.reset": "Clear filters",
    "col.received": "Received",
    "col.channel": "Channel",
    "col.status": "Status",
    "col.language": "Language",
    "col.locality": "Locality",
    "col.text": "Text",
    "col.field": "Field",
    "col.value": "Value",
    "col.when": "When",
    "col.event": "Event",
    "col.actor": "By",
    "col.detail": "Detail",
    "pager.next": "Next page →",
    "pager.first": "← First page",
    "status.open": "Open",
    "status.in_progress": "In progress",
    "status.closed": "Closed",
    "analysis.pending": "Waiting for analysis",
    "analysis.done": "Analysed",
    "analysis.failed": "Analysis failed",
    "sub.title": "Submission #{id}",
    "sub.back": "← Back to the inbox",
    "sub.text": "Text",
    "corr.title": "Analyst's correction",
    "corr.topic": "Topic",
    "corr.sentiment": "Sentiment",
    "corr.toxicity": "Toxicity",
    "corr.keep": "— keep —",
    "corr.save": "Save correction",
    "corr.current": "Corrected",
    "sentiment.negative": "Negative",
    "sentiment.neutral": "Neutral",
    "sentiment.positive": "Positive",
    "text.awaiting_redaction": "The text is shown once personal data has been redacted.",
    "text.redacted_note": "Personal data is redacted; only the handling agency sees the original.",
    "sub.details": "Details",
    "sub.tracking_code": "Tracking code",
    "sub.channel": "Channel",
    "sub.status": "Status",
    "sub.analysis_state": "Analysis",
    "sub.received": "Received",
    "sub.locality": "Locality",
    "sub.agency": "Agency",
    "sub.service_code": "Service code",
    "sub.source_id": "Source id",
    "sub.has_contact": "Has contact details",
    "sub.attachments": "Attachments",
    "sub.no_attachments": "No attachments.",
    "sub.annotations": "Analysis results",
    "sub.no_annotations": "Not analysed yet.",
    "sub.history": "History",
    "att.filename": "File name",
    "att.type": "Type",
    "att.size": "Size (bytes)",
    "event.received": "Received",
    "event.analysed": "Analysed",
    "event.status_changed": "Status changed",
    "event.assigned": "Assigned",
    "yes": "Yes",
    "no": "No",
    "submit.title": "Send feedback",
    "submit.intro": "Your feedback goes to the responsible public body. "
    "You will get a tracking code to follow it up.",
    "submit.text": "Your feedback",
    "submit.text_help": "Describe what happened, when and where, as precisely as you can.",
    "submit.locality": "Place (optional)",
    "submit.locality_placeholder": "For example: Ben Nghe Ward, Ho Chi Minh City",
    "submit.contact": "Contact details (optional)",
    "submit.contact_help": "Only the handling body can see them; they are stored encrypted.",
    "submit.name": "Full name",
    "submit.phone": "Phone",
    "submit.email": "Email",
    "submit.send": "Send feedback",
    "submit.errors": "Please check the following:",
    "err.text_empty": "Please write your feedback.",
    "err.text_long": "The feedback is too long (at most {max} characters).",
    "err.control": "{field}: contains invalid control characters.",
    "err.too_long": "{field}: too long (at most {max} characters).",
    "err.invalid": "{field}: this value is not valid.",
    "thanks.title": "Thank you for your feedback",
    "thanks.code": "Your tracking code",
    "thanks.keep": "Keep this code to follow up on your feedback.",
    "thanks.duplicate": "This text had already been received; this is the code of that earlier submission.",
    "thanks.track": "See its status",
    "thanks.again": "Send other feedback",
    "track.title": "Track your feedback",
    "track.intro": "Enter the tracking code you received when you sent your feedback (CP-XXXX-XXXX).",
    "track.code": "Tracking code",
    "track.submit": "Look up",
    "track.status": "Status",
    "track.received": "Received",
    "track.updated": "Last updated",
    "track.agency": "Handling body",
    "track.agency_none": "Not yet assigned",
    "track.unknown": "No feedback has this tracking code. Please check the code and try again.",
    "track.another": "Look up another code",
    "error.title": "Something went wrong",
    "error.400": "Bad request",
    "error.401": "Please sign in",
    "error.403": "Access denied",
    "error.404": "Not found",
    "error.405": "Method not allowed",
    "error.413": "Request too large",
    "error.422": "Invalid input",
    "error.429": "Too many requests",
    "error.500": "Server error",
    "error.help.429": "You sent too many requests in a short time. Please try again in a few minutes.",
    "error.help.500": "The error was logged. Please try again later.",
    "error.home": "Go to the home page",
    "error.csrf": "This form has expired or is not valid. Please reload the page and send it again.",
    "error.other_agency": "This submission belongs to another agency.",
    "error.no_submission": "Submission #{id} does not exist.",
    "error.bad_channel": "Unknown channel: {value}",
    "error.bad_status": "Unknown status: {value}",
    "error.bad_date": "Invalid date: {value} (use YYYY-MM-DD)",
    "none": "—",
    **{f"channel.{key}": label for key, label in _CHANNELS_EN.items()},
}

STRINGS: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
LANGUAGES: tuple[str, ...] = tuple(STRINGS)


class Translator:
    """``t("key", name=value)``: the string of one language, formatted; unknown keys show as the key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in STRINGS else DEFAULT_LANGUAGE
        self._strings = STRINGS[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._strings.get(key) or STRINGS[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether ``key`` is a known string."""
        return key in self._strings


def _from_accept_language(header: str) -> str | None:
    """The best of our languages in an ``Accept-Language`` header, honouring q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in STRINGS and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def request_language(request: Request) -> str:
    """The UI language: ``?lang=`` (remembered in the session), the session, Accept-Language, else vi."""
    session = request.session if "session" in request.scope else None
    asked = request.query_params.get(LANGUAGE_KEY)
    if asked in STRINGS:
        if session is not None:
            session[LANGUAGE_KEY] = asked
        return asked
    if session is not None and session.get(LANGUAGE_KEY) in STRINGS:
        return session[LANGUAGE_KEY]
    return _from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE


def translator(request: Request) -> Translator:
    """The translator of this request's language (computed once per request)."""
    cached = getattr(request.state, "translator", None)
    if cached is None:
        cached = Translator(request_language(request))
        request.state.translator = cached
    return cached
