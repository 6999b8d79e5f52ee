from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from apps.api.models import APIKey

# The library registers its own model, which this project does not use: ours adds the owner.
admin.site.unregister(LibraryAPIKey)


@admin.register(APIKey)
class APIKeyAdmin(APIKeyModelAdmin):
    """Create a key here (shown once, in the message after saving), revoke it (final) or give
    it an expiry date; either takes effect on the key's very next request."""

    # The library annotates these as tuples of its own exact length, hence the ignores.
    list_display = (  # type: ignore[assignment]
        "prefix", "name", "owner", "is_staff", "created", "expiry_date", "_has_expired", "revoked",
    )  # fmt: skip
    list_filter = ("revoked", "is_staff", "created", "expiry_date")  # type: ignore[assignment]
    search_fields = (  # type: ignore[assignment]
        "name", "prefix", "owner__username", "owner__telegram_id",
    )  # fmt: skip
    autocomplete_fields = ("owner",)
    fields = ("name", "owner", "is_staff", "expiry_date", "revoked", "prefix", "created")
    actions = ("revoke",)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Model | None = None
    ) -> tuple[str, ...]:
        # Whom a key speaks for is fixed once it exists: a new holder gets a new key.
        fixed = ("owner", "is_staff") if obj is not None else ()
        library = super().get_readonly_fields(request, obj)  # type: ignore[arg-type]
        return (*library, *fixed, "created")

    @admin.action(description="Revoke the selected keys (final)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        count = queryset.filter(revoked=False).update(revoked=True)
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)
