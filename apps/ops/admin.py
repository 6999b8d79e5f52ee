from __future__ import annotations

from collections import defaultdict

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.ops import services
from apps.ops.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    # A dead letter is a record of what happened: nothing in it is edited, only acted upon.
    list_display = [
        "id", "task_name", "queue", "exception_class", "short_description", "attempts",
        "last_failed_at", "status",
    ]  # fmt: skip
    list_filter = ["queue", "status", "task_name", "exception_class"]
    search_fields = ["task_name", "task_id", "description", "replayed_task_id"]
    date_hierarchy = "last_failed_at"
    actions = ["replay", "discard"]
    readonly_fields = [
        "task_name", "task_id", "args", "kwargs", "original_json", "queue", "exception_class",
        "description",
        "traceback", "attempts", "first_failed_at", "last_failed_at", "status", "replayed_at",
        "replayed_task_id", "discarded_at",
    ]  # fmt: skip

    @admin.display(description="description")
    def short_description(self, letter: DeadLetter) -> str:
        text = letter.description
        return text if len(text) <= 80 else text[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the workers only

    @admin.action(description="Replay the selected dead letters (each runs once)")
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        ids_by_queue: dict[str, list[int]] = defaultdict(list)
        for pk, queue in queryset.values_list("pk", "queue"):
            ids_by_queue[queue].append(pk)
        replayed = skipped = failed = 0
        for queue, ids in ids_by_queue.items():
            result = services.do_replay(queue, services.ReplaySelection(all=False, ids=tuple(ids)))
            replayed += len(result.replayed)
            skipped += len(result.skipped)
            failed += len(result.failed)
        self.message_user(request, f"Replayed {replayed}; skipped {skipped} not dead any more.")
        if failed:
            self.message_user(
                request, f"{failed} could not be sent (broker unavailable).", messages.ERROR
            )

    @admin.action(description="Discard the selected dead letters")
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        discarded = services.do_discard(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Discarded {discarded}.")
