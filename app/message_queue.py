"""The Socket.IO message queue on Redis, and what happens when Redis goes away.

Redis pub/sub keeps nothing: a message published while a process is not subscribed never
reaches that process's clients. python-socketio's own Redis manager reconnects quietly (and
redis-py resubscribes by itself), so nobody learns that messages were missed. This manager
listens on a connection of its own without redis-py's retries, so every break is seen, comes
back after at most `RETRY_MAX_S` seconds once Redis is up again, and then sends
`message_queue_restored` with the moment the subscription was lost: the modules that
broadcast through the queue deliver again, from their own storage, what was sent since.
The first subscription counts as a restoration too (since the manager was created), because a
client may connect to a process before that process has subscribed.

Publishing never raises: a note is saved even when Redis is down, and reaches other processes'
clients after the restoration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime

import redis
import socketio
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.models import utcnow
from app.signals import message_queue_restored

log = logging.getLogger(__name__)

#: seconds between attempts to subscribe again, doubling up to RETRY_MAX_S
RETRY_MIN_S = 0.1
RETRY_MAX_S = 2.0


class RedisMessageQueue(socketio.RedisManager):
    """A Redis client manager that reports when its subscription is back after a break."""

    def __init__(self, app: Flask, url: str, channel: str) -> None:
        # One attempt per command: a publish while Redis is down fails at once instead of
        # holding the request through redis-py's backoff (the manager tries twice).
        super().__init__(url, channel=channel,
                         redis_options={"retry": Retry(NoBackoff(), 0),
                                        "socket_connect_timeout": 2})
        self.app = app
        self.lost_at: datetime | None = utcnow()

    def _listen(self) -> Iterator[bytes]:
        channel = self.channel.encode()
        wait = RETRY_MIN_S
        while True:
            client = redis.Redis.from_url(self.redis_url, retry=Retry(NoBackoff(), 0),
                                          socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                if self.lost_at is not None:
                    since, self.lost_at = self.lost_at, None
                    self._restored(since)
                wait = RETRY_MIN_S
                for message in pubsub.listen():
                    if message["type"] == "message" and message["channel"] == channel:
                        yield message["data"]
            except redis.RedisError as error:
                if self.lost_at is None:
                    self.lost_at = utcnow()
                    log.error("lost the Socket.IO message queue: %s", error)
                time.sleep(wait)
                wait = min(wait * 2, RETRY_MAX_S)
            finally:
                pubsub.close()
                client.close()

    def _restored(self, since: datetime) -> None:
        try:
            message_queue_restored.send(self.app, since=since)
        except Exception:  # a failing receiver must not stop the listener
            log.exception("a receiver of message_queue_restored failed")


def message_queue(app: Flask) -> RedisMessageQueue | None:
    """Return the client manager for the app's Socket.IO server, or None without Redis."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    return RedisMessageQueue(app, url, app.config["SOCKETIO_CHANNEL"])
