FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --system --home /app gmbot && chown -R gmbot /app
USER gmbot

EXPOSE 8000
CMD ["gunicorn", "gmbot.wsgi:application", "--config", "gunicorn.conf.py"]
