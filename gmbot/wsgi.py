import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")

django_application = get_wsgi_application()

from apps.ingress.wsgi import with_webhook  # noqa: E402 - needs the apps loaded above

application = with_webhook(django_application)
