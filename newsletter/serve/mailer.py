"""The double opt-in mail: rendered with the project's templates, sent by the configured SMTP."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from newsletter.config import Config
from newsletter.deliver.send.smtp import resolve
from newsletter.project import Project
from newsletter.render import compile_mjml, project_environment, render_template
from newsletter.render.theme import build_theme
from newsletter.serve.labels import page_labels

Deliver = Callable[[EmailMessage], None]
MAIL_HTML = "serve/confirm_email.mjml.j2"
MAIL_TEXT = "serve/confirm_email.txt.j2"


def confirmation_message(
    project: Project, *, to: str, name: str, language: str, link: str
) -> EmailMessage:
    config = project.config
    settings = config.newsletter
    words = {
        k: v.format(name=settings.name, email=to, about=settings.about)
        for k, v in page_labels(language, project.locale_dir).items()
    }
    context: dict[str, object] = {
        "newsletter": settings,
        "brand": config.brand,
        "theme": build_theme(config.brand),
        "t": words,
        "lang": language,
        "link": link,
        "recipient_name": name,
    }
    env = project_environment(project)
    html = compile_mjml(render_template(env, MAIL_HTML, context), template=MAIL_HTML)
    text = render_template(env, MAIL_TEXT, context)
    message = EmailMessage()
    message["Subject"] = words["confirm_mail_subject"]
    message["From"] = formataddr((settings.sender, settings.from_email))
    message["To"] = formataddr((name, to)) if name else to
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.from_email.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def smtp_deliver(config: Config) -> Deliver:
    """Sends one message through [smtp] (and the NEWSLETTER_SMTP_* variables)."""
    settings = resolve(config.smtp, config.newsletter.from_email)

    def deliver(message: EmailMessage) -> None:
        context = ssl.create_default_context()
        if settings.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            conn = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with conn:
            if settings.security == "starttls":
                conn.starttls(context=context)
            if settings.username:
                conn.login(settings.username, settings.password or "")
            conn.send_message(message, from_addr=settings.envelope_from)

    return deliver
