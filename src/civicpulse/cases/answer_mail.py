"""E-mail of published answers to the citizens who left an address, through ``civicpulse.mailer``.

Publishing queues one mail per submission with contact details (``answer_mail``); ``deliver_pending``
reads each contact (an audited ``contact.read``), sends, and retries a failure a few times. The
``AnswerMailer`` thread of the service delivers them as they come (woken by the routes that
publish) and every ``POLL_SECONDS`` for answers published elsewhere."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from civicpulse.cases.templates import show_date
from civicpulse.errors import MailNotSent, NotFound, Unprocessable
from civicpulse.mailer import send_mail
from civicpulse.periodic import Periodic
from civicpulse.settings import Settings
from civicpulse.store import answers as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.contacts import ContactCipher, read_contact
from civicpulse.store.db import Database
from civicpulse.store.tables import CaseAnswerRow, SubmissionRow, utcnow

MAIL_ACTOR = "system:answer-mail"
MAX_ATTEMPTS = 5
RETRY_AFTER = dt.timedelta(minutes=5)
POLL_SECONDS = 60.0
log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one round of delivery did."""

    sent: int = 0
    no_address: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Letter:
    mail_id: int
    to: str
    subject: str
    body: str


def one_line(text: str) -> str:
    """``text`` with every run of white space (line breaks included) as one space."""
    return " ".join(text.split())


def compose(answer: CaseAnswerRow, submission: SubmissionRow) -> tuple[str, str]:
    """Subject and body of the mail of ``answer`` to the citizen of ``submission``: the agency
    speaks in its own name."""
    agency = one_line(answer.agency_name or answer.agency or "Cơ quan giải quyết")
    code = submission.tracking_code
    subject = f"Trả lời phản ánh {code} / Answer to your feedback {code}"
    body = (
        f"Kính gửi Ông/Bà,\n\n"
        f"{agency} trả lời phản ánh, kiến nghị có mã tra cứu {code} "
        f"(tiếp nhận ngày {show_date(submission.received_at)}) như sau:\n\n"
        f"{answer.text}\n\n"
        f"Ông/Bà có thể xem lại câu trả lời và cho biết vấn đề đã được giải quyết hay chưa tại trang "
        f"Tra cứu (/track) với mã {code}.\n\n"
        f"{agency}\n\n"
        f"-- \nThư gửi tự động từ hệ thống CivicPulse, vui lòng không trả lời thư này. "
        f"This message was sent automatically; please do not reply.\n"
    )
    return subject, body


def _prepare(db: Database, cipher: ContactCipher, mail_id: int, now: dt.datetime) -> _Letter | None:
    """Claim one pending mail: read its contact (audited) and compose it; the claim holds it back
    for ``RETRY_AFTER`` in case this process stops while sending."""
    with db.write() as session:
        row = stored.claim_mail(session, mail_id)
        if row is None:
            return None
        answer = session.get(CaseAnswerRow, row.answer_id)
        submission = session.get(SubmissionRow, row.submission_id)
        try:
            contact = read_contact(session, cipher, row.submission_id, actor=MAIL_ACTOR, client=None)
        except NotFound:
            contact = None
        if answer is None or submission is None or contact is None or not contact.email:
            row.state = "no_address"
            return None
        row.attempts += 1
        row.next_at = now + RETRY_AFTER * row.attempts
        subject, body = compose(answer, submission)
        return _Letter(row.id, contact.email, subject, body)


def _finish(db: Database, letter: _Letter, error: str | None, now: dt.datetime) -> None:
    with db.write() as session:
        row = stored.claim_mail(session, letter.mail_id)
        if row is None:
            return
        if error is None:
            row.state, row.sent_at, row.last_error = "sent", now, None
        else:
            row.last_error = error
            if row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
        record_audit(
            session,
            actor=MAIL_ACTOR,
            action="answer.mail",
            target=f"submission:{row.submission_id}",
            status=200 if error is None else 502,
            detail={"answer": row.answer_id, "attempt": row.attempts, **({"error": error} if error else {})},
        )


def deliver_pending(
    db: Database,
    cipher: ContactCipher,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
) -> Delivery:
    """Send the mails whose time has come (none while mail is not configured)."""
    report = Delivery()
    if not settings.smtp_host or not settings.mail_from:
        return report
    moment = now or utcnow()
    with db.read() as session:
        due = stored.due_mail(session, moment, limit=limit)
    for mail_id in due:
        letter = _prepare(db, cipher, mail_id, moment)
        if letter is None:
            report.no_address += 1
            continue
        try:
            send_mail(settings, [letter.to], letter.subject, letter.body)
        except (MailNotSent, Unprocessable) as exc:
            report.failed += 1
            _finish(db, letter, exc.message, moment)
        else:
            report.sent += 1
            _finish(db, letter, None, moment)
    return report


class AnswerMailer(Periodic):
    """Delivers queued answer mails in a daemon thread: on ``wake()`` and every ``interval`` seconds
    (only when mail is configured)."""

    def __init__(
        self, db: Database, cipher: ContactCipher, settings: Settings, interval: float = POLL_SECONDS
    ):
        self.db, self.cipher, self.settings = db, cipher, settings
        super().__init__(
            "civicpulse-answer-mail",
            self._round,
            interval,
            enabled=bool(settings.smtp_host and settings.mail_from),
            failure="answer mail delivery failed",
        )

    def _round(self) -> None:
        report = deliver_pending(self.db, self.cipher, self.settings)
        if report.sent or report.failed:
            log.info("answer mail: %d sent, %d failed", report.sent, report.failed)
