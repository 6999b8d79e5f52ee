"""The HTTP under every Bot API call: urllib3's connection pools, shared by a process's threads.

pyTelegramBotAPI would send through requests. requests is urllib3 plus per-call work a bot
does not need: each call re-reads the proxy variables from the environment, merges session
settings, prepares cookies and hooks. Measured on this project's 2-core machine against the
sandbox, a call cost 1.31 ms of CPU through a requests session and 0.40 ms through a urllib3 pool
(docs/BENCHMARKS.md), and a `high` job makes one or two. The proxy settings (HTTPS_PROXY,
NO_PROXY, ...) are read once per process, for TELEGRAM_API_URL, as requests would read them.

The wire format is the one pyTelegramBotAPI gets from requests: the parameters in the query
string (None dropped, a list repeated), uploads as multipart/form-data. `send` raises urllib3's
own errors (no retries, no redirects); apps.telegram.client turns them into its TelegramErrors.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from requests.utils import get_environ_proxies

# Connections kept open per host: enough for every thread of a `high` worker process (16 job
# threads and 32 fan-out threads by default); more are opened when needed and closed after use.
POOL_SIZE = 64


class Answer:
    """The Bot API's answer as pyTelegramBotAPI reads it (requests.Response's few attributes it
    uses: status_code, headers, text, json())."""

    def __init__(self, status_code: int, content: bytes, headers: Any = None, reason: str = ""):
        self.status_code = status_code
        self.content = content
        self.headers = headers if headers is not None else urllib3.HTTPHeaderDict()
        self.reason = reason

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Pools:
    manager: urllib3.PoolManager | None = None
    pid = 0
    lock = threading.Lock()


def _manager() -> urllib3.PoolManager:
    """This process's pool manager (a forked child makes its own: the parent's sockets are the
    parent's), through the environment's proxy for the Bot API when there is one."""
    if _Pools.manager is None or _Pools.pid != os.getpid():
        with _Pools.lock:
            if _Pools.manager is None or _Pools.pid != os.getpid():
                _Pools.manager = _new_manager()
                _Pools.pid = os.getpid()
    return _Pools.manager


def _new_manager() -> urllib3.PoolManager:
    from django.conf import settings

    base = settings.TELEGRAM_API_URL
    proxies = get_environ_proxies(base)
    proxy = proxies.get(urlsplit(base).scheme) or proxies.get("all")
    options: dict[str, Any] = {"maxsize": POOL_SIZE, "block": False, "ca_certs": certifi.where()}
    if proxy:
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


def reset() -> None:
    """Forget the inherited pools (called in a forked worker child; the parent keeps its own)."""
    _Pools.manager = None


def send(
    method: str,
    url: str,
    params: dict[str, Any] | None,
    files: dict[str, Any] | None,
    timeout: tuple[float, float] | float | None,
) -> Answer:
    """One HTTP request, as pyTelegramBotAPI would have made it through requests."""
    query = _encode(params)
    if query:
        url = f"{url}?{query}"
    body, headers = None, None
    if files:
        body, content_type = urllib3.encode_multipart_formdata(_fields(files))
        headers = {"Content-Type": content_type}
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    response = _manager().urlopen(
        method.upper(),
        url,
        body=body,
        headers=headers,
        retries=False,
        redirect=False,
        timeout=urllib3.Timeout(connect=connect, read=read),
    )
    return Answer(response.status, response.data, response.headers, response.reason or "")


def _encode(params: dict[str, Any] | None) -> str:
    """requests' encoding of `params`: None values dropped, a list or tuple repeated."""
    pairs: list[tuple[str, Any]] = []
    for key, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, item) for item in values if item is not None)
    return urlencode(pairs)


def _fields(files: dict[str, Any]) -> list[tuple[str, Any]]:
    """telebot's files (name → file, or (filename, file)) as multipart fields."""
    fields: list[tuple[str, Any]] = []
    for name, value in files.items():
        filename, stream = value if isinstance(value, tuple) else (None, value)
        if filename is None:
            filename = os.path.basename(str(getattr(stream, "name", ""))) or name
        data = stream.read() if hasattr(stream, "read") else stream
        fields.append((name, (filename, data)))
    return fields
