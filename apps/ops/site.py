"""The admin as GMBot's staff see it: its own header and title, and the dashboard as its index.

`GMBotAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS, so every app's
`admin.site.register(...)` lands on this site and nothing else changes for them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse


class GMBotAdminSite(admin.AdminSite):
    site_header = "GMBot"
    site_title = "GMBot"
    index_title = "The platform at a glance"
    index_template = "admin/gmbot_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        from apps.ops import dashboard

        context = {**(extra_context or {}), "dashboard": dashboard.build(request)}
        return super().index(request, context)


class GMBotAdminConfig(AdminConfig):
    default_site = "apps.ops.site.GMBotAdminSite"
