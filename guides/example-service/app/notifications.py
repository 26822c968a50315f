"""Outgoing mail through the mail provider's async client.

The transport below stands in for that client (an SMTP or HTTP API call); `sent` keeps what
was sent so the tests and the admin pages can see it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.config import settings


@dataclass
class Message:
    sender: str
    to: str
    subject: str
    body: str


@dataclass
class MailTransport:
    sent: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        await asyncio.sleep(0)  # the provider's client awaits the network here
        self.sent.append(message)


transport = MailTransport()


async def send_welcome_email(email: str, full_name: str | None) -> None:
    await transport.send(
        Message(
            sender=settings.welcome_sender,
            to=email,
            subject="Welcome!",
            body=f"Hello {full_name or email}, your account is ready.",
        )
    )
