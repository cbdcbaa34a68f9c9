"""The two emails a subscribe request sends: the confirmation (double opt-in: a link that
asks the mailbox's owner to press Confirm) and, to an address already subscribed, a
short note saying so. Plain text only.

Never puts a word the requester typed (the name field) into either email: the form is
public, and whatever it echoed would be spam we send to an address of the sender's
choosing. Only our own text and our own links go out.
"""

from __future__ import annotations

from email.message import EmailMessage

from ..config import Settings
from .compose import base_message
from .links import base_url
from .tokens import CONFIRM_DAYS


def confirmation_message(settings: Settings, to: str, confirm_url: str) -> EmailMessage:
    """The double opt-in email to `to` (a normalized address), with its confirm link."""
    title = settings.newsletter.title
    text = (
        f"Someone, probably you, asked to subscribe this address to {title}, a monthly "
        "email newsletter.\n\n"
        "To confirm, open this link and press Confirm:\n\n"
        f"{confirm_url}\n\n"
        f"The link works for {CONFIRM_DAYS} days. If you did not ask, ignore this email: "
        "you will not be subscribed and will get nothing more from us.\n\n"
        f"Past issues: {base_url(settings)}\n"
    )
    return _message(settings, to, f"Confirm your subscription to {title}", text)


def already_subscribed_message(settings: Settings, to: str, unsubscribe_url: str) -> EmailMessage:
    """To a confirmed subscriber whose address was entered in the form again."""
    title = settings.newsletter.title
    text = (
        f"Someone, probably you, asked to subscribe this address to {title}. It is "
        "subscribed already, so nothing has changed: you will keep getting each new "
        "issue.\n\n"
        f"To stop getting it, unsubscribe here:\n\n{unsubscribe_url}\n\n"
        f"Past issues: {base_url(settings)}\n"
    )
    return _message(settings, to, f"You are subscribed to {title}", text)


def _message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = base_message(settings, to, subject)
    # Out-of-office replies and the like should not answer a message nobody wrote.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message
