from django.urls import path

from apps.ingress import views

urlpatterns = [
    path("telegram", views.telegram_webhook, name="telegram-webhook"),
]
