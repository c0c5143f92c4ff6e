"""The users of a sandbox org and the OAuth clients that act as them.

Every OAuth client runs as its own user, so a connector can filter out its own writes with
``LastModifiedById != <its user id>`` exactly as it would in a real org.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from channel_sync.sandbox.salesforce import schema
from channel_sync.sandbox.salesforce.ids import IdFactory


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str


@dataclass
class ClientApp:
    """A connected app: its consumer key and secret and the user it runs as."""

    client_id: str
    client_secret: str = field(repr=False)
    username: str
    jwt_public_key: str | None = field(default=None, repr=False)


class Directory:
    """Users by username and id, client apps by consumer key, access tokens by owner."""

    def __init__(self, org_name: str) -> None:
        self._ids = IdFactory(schema.USER_PREFIX, org_name)
        self.by_username: dict[str, User] = {}
        self.by_id: dict[str, User] = {}
        self.passwords: dict[str, str] = {}
        self.clients: dict[str, ClientApp] = {}
        self.token_owner: dict[str, str] = {}
        self.refresh_owner: dict[str, tuple[str, str]] = {}  # refresh token -> (user id, client)

    def user(self, username: str, name: str | None = None) -> User:
        found = self.by_username.get(username.lower())
        if found is not None:
            return found
        made = User(self._ids.next(), username, name or username.split("@", 1)[0])
        self.by_username[username.lower()] = made
        self.by_id[made.id] = made
        return made

    def add_client(
        self,
        username: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        jwt_public_key: str | None = None,
    ) -> ClientApp:
        self.user(username)
        app = ClientApp(
            client_id=client_id or "3MVG9" + secrets.token_hex(20),
            client_secret=client_secret or secrets.token_hex(32).upper(),
            username=username,
            jwt_public_key=jwt_public_key,
        )
        self.clients[app.client_id] = app
        return app
