"""The ceiling for bench/ingress.py: a bare WSGI app answering "ok" under the same gunicorn."""


def application(environ, start_response):  # type: ignore[no-untyped-def]
    body = b'{"ok":true}'
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")])
    return [body]
