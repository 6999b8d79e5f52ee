"""The staff dead-letter endpoints, mounted under /admin/dlq/ (SPEC Q3)."""

from django.urls import path

from apps.ops import views

urlpatterns = [
    path("", views.dead_letter_queues, name="dlq-index"),
    path("<str:queue>/", views.dead_letters, name="dlq-list"),
    path("<str:queue>/replay", views.replay_dead_letters, name="dlq-replay"),
]
