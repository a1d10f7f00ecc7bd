"""Send one e-mail, with optional attachments, over SMTP (``smtp_*`` and ``mail_from`` settings).

A shared module: it imports no layer. Reports use it for scheduled delivery; answers to citizens
can use it the same way.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from civicpulse.errors import MailNotSent, Unprocessable
from civicpulse.settings import Settings

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Attachment:
    """A file sent with the mail."""

    filename: str
    content: bytes
    media_type: str = "application/octet-stream"


def check_address(address: str) -> str:
    """A plain ``user@domain`` address; anything else (names, line breaks, lists) is refused."""
    _, parsed = parseaddr(address)
    if (
        not parsed
        or parsed != address.strip()
        or any(c.isspace() or ord(c) < 32 for c in parsed)
        or parsed.count("@") != 1
        or not all(parsed.split("@"))
    ):
        raise Unprocessable(f"{address!r} is not an e-mail address")
    return parsed


def send_mail(
    settings: Settings,
    to: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Hand one message to the configured SMTP server; ``MailNotSent`` when that fails."""
    if not settings.smtp_host or not settings.mail_from:
        raise MailNotSent("mail is not configured: set CIVICPULSE_SMTP_HOST and CIVICPULSE_MAIL_FROM")
    recipients = [check_address(address) for address in to]
    if not recipients:
        raise Unprocessable("no recipient")
    if any(c in subject for c in "\r\n"):
        raise Unprocessable("the subject must be one line")
    message = EmailMessage()
    message["From"] = check_address(settings.mail_from)
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=message["From"].split("@")[1])
    message.set_content(body, charset="utf-8")
    for item in attachments:
        maintype, _, subtype = item.media_type.partition("/")
        message.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message, to_addrs=recipients)
    except (smtplib.SMTPException, OSError) as exc:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise MailNotSent(f"the SMTP server {where} did not take the mail: {exc}") from exc
