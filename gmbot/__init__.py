from gmbot import heap  # noqa: F401 - its exit handler registered first, so it runs last
from gmbot.celery import app as celery_app

__all__ = ("celery_app",)
