from django.contrib import admin
from django.urls import path

from apps.ops import views as ops_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("live", ops_views.live, name="live"),
    path("ready", ops_views.ready, name="ready"),
    path("health", ops_views.health, name="health"),
]
