"""Mail: password reset links, sent over SMTP (SMTP_URL) from MAIL_FROM."""

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from blog.config import Settings

logger = logging.getLogger("blog")

# Submission ports: STARTTLS on 587, TLS from the first byte on 465 (smtps://).
SUBMISSION_PORT = 587
SUBMISSION_TLS_PORT = 465
SMTP_TIMEOUT_SECONDS = 10


def reset_mail(*, settings: Settings, to: str, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = f"Set a new password for {settings.site_name}"
    message.set_content(
        "Someone, probably you, asked to set a new password for your account at "
        f"{settings.site_name}.\n\n"
        f"To choose one, open this link within an hour:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password "
        "stays as it is.\n"
    )
    return message


def send_mail(smtp_url: str, message: EmailMessage) -> None:
    """Send one message; a server that cannot be reached or refuses it is logged, not raised
    (this runs after the answer has gone, and the answer is the same whether or not a mail is
    sent)."""
    try:
        _send(smtp_url, message)
    except (smtplib.SMTPException, OSError) as error:
        server = urlsplit(smtp_url)
        logger.error("Could not send mail through %s:%s: %s", server.hostname, server.port, error)


def _send(smtp_url: str, message: EmailMessage) -> None:
    server = urlsplit(smtp_url)
    host = server.hostname or ""
    context = ssl.create_default_context()
    if server.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, server.port or SUBMISSION_TLS_PORT, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(host, server.port or SUBMISSION_PORT, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if server.scheme == "smtp":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
        if server.username:
            client.login(unquote(server.username), unquote(server.password or ""))
        client.send_message(message)
