"""Take docs/screenshot-dashboard.png: the inbox with realistic Vietnamese data, 1280x800.

Run from the repository root: ``.venv/bin/python -m scripts.screenshot [OUTPUT.png]`` (it shares
the test harness's server runner and browser options in ``tests/server.py``).
It builds a throw-away SQLite store, seeds it through the intake service, runs the analysis
worker (language annotations), serves the app with uvicorn and photographs the inbox with
Debian's chromium through Playwright.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import update
from tests.server import CHROMIUM, CHROMIUM_ARGS, serving

from civicpulse.domain import Channel, Contact, Role, SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import SubmissionRow
from civicpulse.store.users import create_user

ADMIN = ("admin@example.org", "admin-password")

# (hours ago, channel, status, locality, text)
SAMPLES: list[tuple[float, Channel, str, str, str]] = [
    (
        0.3,
        Channel.web_form,
        "open",
        "Phường Sài Gòn, TP. Hồ Chí Minh",
        "Đường Nguyễn Huệ ngập sâu khoảng 40 cm sau cơn mưa chiều nay, xe máy chết máy hàng loạt. "
        "Đề nghị kiểm tra lại hệ thống thoát nước.",
    ),
    (
        1.2,
        Channel.hotline,
        "open",
        "Phường Hoàn Kiếm, Hà Nội",
        "Đèn đường trên phố Hàng Bài tắt từ ba hôm nay, buổi tối rất tối và nguy hiểm cho người đi bộ.",
    ),
    (
        2.5,
        Channel.social_media,
        "in_progress",
        "Phường Hải Châu, Đà Nẵng",
        "Rác thải tập kết ở góc đường Lê Duẩn không được thu gom hai ngày, bốc mùi hôi thối.",
    ),
    (
        3.1,
        Channel.email,
        "open",
        "Phường Ninh Kiều, Cần Thơ",
        "Tôi đã nộp hồ sơ cấp đổi giấy chứng nhận quyền sử dụng đất từ tháng trước nhưng chưa nhận được "
        "phản hồi. Xin cho biết tiến độ giải quyết.",
    ),
    (
        4.0,
        Channel.web_form,
        "open",
        "Xã Tân Phú, Đồng Nai",
        "Công trình xây dựng bên cạnh nhà tôi làm việc đến 23 giờ đêm, tiếng ồn ảnh hưởng đến giấc ngủ "
        "của trẻ nhỏ và người già.",
    ),
    (
        5.6,
        Channel.open311,
        "in_progress",
        "Phường Bến Thành, TP. Hồ Chí Minh",
        "Ổ gà lớn trên đường Lê Lợi gần chợ Bến Thành, đã có người ngã xe. Cần vá gấp.",
    ),
    (
        7.2,
        Channel.survey,
        "closed",
        "Phường Ba Đình, Hà Nội",
        "Thủ tục đăng ký thường trú trực tuyến nhanh và thuận tiện hơn trước nhiều. Cảm ơn cán bộ phường.",
    ),
    (
        8.9,
        Channel.hotline,
        "open",
        "Phường Thủy Xuân, Huế",
        "Nước sinh hoạt có màu vàng đục và mùi lạ từ sáng nay, cả khu dân cư đều bị.",
    ),
    (
        11.0,
        Channel.web_form,
        "open",
        "Phường Hạ Long, Quảng Ninh",
        "Bãi đỗ xe trái phép chiếm hết vỉa hè đường Trần Hưng Đạo, người đi bộ phải xuống lòng đường.",
    ),
    (
        13.5,
        Channel.api,
        "in_progress",
        "Phường Vinh Phú, Nghệ An",
        "Cây xanh bị đổ sau bão chắn ngang lối vào trường tiểu học, đề nghị cắt dọn trước giờ học sáng mai.",
    ),
    (
        16.0,
        Channel.email,
        "open",
        "Phường Thủ Dầu Một, TP. Hồ Chí Minh",
        "The bus stop sign on Yersin street has fallen over and blocks the pavement near the market.",
    ),
    (
        19.4,
        Channel.social_media,
        "open",
        "Phường Nha Trang, Khánh Hòa",
        "Bãi biển đoạn gần công viên Yến Sào có nhiều rác nhựa trôi dạt vào, du khách phàn nàn.",
    ),
    (
        22.0,
        Channel.web_form,
        "closed",
        "Phường Cầu Giấy, Hà Nội",
        "Đã sửa xong đường ống nước vỡ trên phố Trần Thái Tông, cảm ơn công ty cấp nước đã xử lý nhanh.",
    ),
    (
        26.0,
        Channel.hotline,
        "open",
        "Xã Bình Chánh, TP. Hồ Chí Minh",
        "Kênh thoát nước bị bèo tây và rác bít kín, muỗi nhiều, lo ngại sốt xuất huyết.",
    ),
    (
        30.0,
        Channel.web_form,
        "in_progress",
        "Phường Lê Chân, Hải Phòng",
        "Xin hướng dẫn thủ tục xin giấy phép sửa chữa nhà ở; trang dịch vụ công báo lỗi khi tải hồ sơ.",
    ),
    (
        36.0,
        Channel.open311,
        "open",
        "Phường Buôn Ma Thuột, Đắk Lắk",
        "Tín hiệu đèn giao thông ở ngã sáu trung tâm hoạt động không đồng bộ, dễ gây tai nạn.",
    ),
]


def seed(db: Database, settings: Settings) -> None:
    """Store the samples through the intake service, analyse them, and set their handling state."""
    now = datetime.now(UTC)
    items = [
        SubmissionIn(
            text=text,
            channel=channel,
            locality=locality,
            received_at=now - timedelta(hours=hours),
            contact=Contact(phone="0912 345 678") if index % 3 == 0 else None,
        )
        for index, (hours, channel, _status, locality, text) in enumerate(reversed(SAMPLES))
    ]
    results = accept(db, ContactCipher(settings.fernet_key), items, actor="demo", client=None)
    statuses = [status for _hours, _channel, status, _locality, _text in reversed(SAMPLES)]
    with db.write() as session:  # stands in for the case workflow, which moves cases along
        for result, status in zip(results, statuses, strict=True):
            session.execute(update(SubmissionRow).where(SubmissionRow.id == result.id).values(status=status))
    Worker(db, build_pipeline(settings, db), settings).drain()


def photograph(url: str, out: Path) -> None:
    """Sign in and take the inbox at 1280x800."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page.goto(f"{url}/login")
        page.fill("#email", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.screenshot(path=str(out))
        browser.close()


def main(out: Path) -> None:
    """Build, seed, serve and photograph."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/demo.db",
            secret_key="screenshot-secret-key-0123456789",
            worker_threads=0,
            languages=["vi", "en"],
        )
        db = Database.from_settings(settings)
        db.upgrade()
        with db.write() as session:
            create_user(session, ADMIN[0], ADMIN[1], Role.admin)
        seed(db, settings)
        try:
            with serving(settings) as url:
                photograph(url, out)
        finally:
            db.dispose()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshot-dashboard.png"))
