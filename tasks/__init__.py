"""Celery tasks, one module per queue. Tasks are thin: each calls one service in apps/."""
