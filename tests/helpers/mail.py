"""E-mail in tests: an app's settings to send to the ``smtp`` fixture's server (a real
SMTP server on loopback, tests/smtp_server.py), and what a received message says."""

from __future__ import annotations

from email.message import EmailMessage

PUBLIC_URL = "https://peuplade.example"


def mail_settings(smtp) -> dict:
    """Config overrides for ``make_app``: e-mails to ``smtp`` (an ``SMTPInbox``), with
    links under PUBLIC_URL."""
    return {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5.0,
        "PUBLIC_URL": PUBLIC_URL,
    }


def plain_text(message: EmailMessage) -> str:
    """The plain-text body of a received message."""
    return message.get_body(("plain",)).get_content()
