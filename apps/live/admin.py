from django import forms
from django.contrib import admin

from apps.live.models import LiveEntry


class LiveEntryForm(forms.ModelForm):
    url = forms.URLField(assume_scheme="https", max_length=500, help_text="where to watch")

    class Meta:
        model = LiveEntry
        fields = ["owner", "platform", "handle", "title", "url", "live_since", "is_live"]


@admin.register(LiveEntry)
class LiveEntryAdmin(admin.ModelAdmin):
    form = LiveEntryForm
    list_display = ["handle", "platform", "title", "owner", "is_live", "live_since", "updated_at"]
    list_filter = ["is_live", "platform"]
    search_fields = ["handle", "title", "url", "owner__username", "owner__telegram_id"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["owner"]
