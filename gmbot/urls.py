from django.contrib import admin
from django.urls import include, path

from apps.ops import views as ops_views

urlpatterns = [
    # Before the admin's own URLs, whose catch-all would otherwise answer these.
    path("admin/dlq/", include("apps.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/webhooks/", include("apps.ingress.urls")),
    path("api/", include("apps.api.urls")),
    path("live", ops_views.live, name="live"),
    path("ready", ops_views.ready, name="ready"),
    path("health", ops_views.health, name="health"),
    path("metrics", ops_views.metrics, name="metrics"),
]
