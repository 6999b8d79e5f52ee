"""Mounted at /api/ (gmbot/urls.py), after the webhook, which apps/ingress serves outside DRF."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.api import broadcasts, views

urlpatterns = [
    path("groups", views.GroupList.as_view(), name="api-groups"),
    path("send_messages", broadcasts.SendMessages.as_view(), name="api-send-messages"),
    path("broadcasts/<int:pk>", broadcasts.BroadcastDetail.as_view(), name="api-broadcast"),
    path("live", broadcasts.LiveUpsert.as_view(), name="api-live"),
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc",
        # The package's page loads web fonts from Google; ours leaves them out.
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    re_path(r"^(?P<path>.*)$", views.unknown_endpoint),
]
