from gmbot import quickexit  # noqa: F401 - registered first, so it runs last (gmbot/quickexit.py)
from gmbot.celery import app as celery_app

__all__ = ("celery_app",)
