"""Send e-mail: through SMTP when configured, otherwise into the outbox folder and the log."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template

log = logging.getLogger("minyi.mail")


def send_email(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """Render `template` (plain text) and send it to one recipient."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="minyi")
    message.set_content(render_template(template, **context))
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    else:
        outbox = Path(config["MAIL_OUTBOX_DIR"])
        name = message["Message-ID"].strip("<>").replace("@", "_") + ".eml"
        (outbox / name).write_bytes(bytes(message))
        log.info("e-mail to %s written to %s: %s", to, outbox / name, subject)
    return message


def outbox_messages() -> list[EmailMessage]:
    """Return the messages written to the outbox folder, oldest first (development and tests)."""
    from email import message_from_bytes, policy

    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]
