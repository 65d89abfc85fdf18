"""Send e-mail: rendered where it is asked for, delivered by a background job (through SMTP
when configured, otherwise into the outbox folder and the log)."""

from __future__ import annotations

import logging
import os
import smtplib
import tempfile
import time
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template

from app import jobs

log = logging.getLogger("minyi.mail")


def send_email(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """Render `template` (plain text) for one recipient now, in the caller's language, and
    deliver it in the background."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="minyi")
    message.set_content(render_template(template, **context))
    jobs.enqueue("mail.deliver", message=message.as_string(policy=policy.SMTP),
                 queued_at=time.time_ns())
    return message


@jobs.job("mail.deliver")
def deliver(message: str, queued_at: int) -> str:
    """Send one rendered message; return where it went. In the outbox folder the file name
    starts with the time it was asked for, so the folder lists messages in that order."""
    parsed = message_from_string(message, policy=policy.default)
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(parsed)
        return f"smtp:{config['MAIL_SERVER']}"
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    name = f"{queued_at}-" + parsed["Message-ID"].strip("<>").replace("@", "_") + ".eml"
    # written beside and renamed, so a reader of the folder never sees half a message
    handle, temporary = tempfile.mkstemp(dir=outbox, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(bytes(parsed))
    os.replace(temporary, outbox / name)
    log.info("e-mail to %s written to %s: %s", parsed["To"], outbox / name, parsed["Subject"])
    return str(outbox / name)


def outbox_messages() -> list[EmailMessage]:
    """Return the messages written to the outbox folder, oldest first, once this process's
    deliveries have ended (development and tests)."""
    from email import message_from_bytes

    jobs.wait_here()
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml"))
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]
