"""The Redis broker transport, with one redis-py client per channel instead of one per command.

kombu's Redis channel builds a new redis-py client object for each acknowledgement, each
delivery's bookkeeping (the unacked index) and each event it publishes (`conn_or_acquire`), and
with redis-py 8 building one costs more than the command it sends: it was 10.6% of the `high`
worker's time at 3,000 updates/min (docs/BENCHMARKS.md). A redis-py client is safe to share
between threads (it takes a connection from its pool for each command), so this channel builds
one for its pool and keeps it; everything else is kombu's transport unchanged.

celeryconfig.py picks it when the broker URL is `redis://` or `rediss://`; any other broker
keeps its own transport.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _kept_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the consumer's BRPOP client: kombu keeps that one itself
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        client = self._kept_client
        # A channel whose connection was lost makes a new pool: a client of the old one is not
        # kept.
        if client is None or client.connection_pool is not self.pool:
            client = self._kept_client = super()._create_client()  # type: ignore[misc]
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
