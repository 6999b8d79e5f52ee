FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# The admin's CSS and JS, compressed and with content-hashed names, into STATIC_ROOT
# (/app/staticfiles), where WhiteNoise serves them from the web process. DEBUG=1 for this
# command alone: collecting files needs no SECRET_KEY, and the image must carry none.
RUN DEBUG=1 python manage.py collectstatic --noinput --verbosity 0
# var/metrics exists in the image, owned by gmbot, so the compose volume mounted there is too.
RUN mkdir -p var/metrics && useradd --system --home /app gmbot && chown -R gmbot /app
USER gmbot

EXPOSE 8000
CMD ["gunicorn", "gmbot.wsgi:application", "--config", "gunicorn.conf.py"]
