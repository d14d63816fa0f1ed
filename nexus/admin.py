"""The job queue in the back office (Supervisors and superusers): what waits, what failed and why, and a
Retry action. Read-only otherwise: jobs are written by the operations that owe them (nexus.jobs)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import ngettext

from . import jobs
from .models import Job


class QueueFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting"), ("failed", "Failed")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(failed_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(failed_at__isnull=False)
        return queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "key", "created_at", "age", "attempts", "state", "error_line"]
    list_filter = [QueueFilter, "topic"]
    search_fields = ["key", "topic"]
    readonly_fields = ["topic", "key", "payload", "created_at", "available_at", "attempts", "failed_at", "last_error"]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a job is owed: never dropped by hand

    def has_retry_permission(self, request):
        return request.user.has_perm("nexus.retry_job")

    @admin.display(description="Age")
    def age(self, obj):
        seconds = int((timezone.now() - obj.created_at).total_seconds())
        return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds} s"

    @admin.display(description="State")
    def state(self, obj):
        if obj.failed_at:
            return "Failed"
        return "Retrying" if obj.attempts else "Waiting"

    @admin.display(description="Last error")
    def error_line(self, obj):
        lines = [line for line in obj.last_error.strip().splitlines() if line.strip()]
        return lines[-1][:160] if lines else "—"

    @admin.action(description="Retry selected jobs", permissions=["retry"])
    def retry(self, request, queryset):
        count = jobs.retry(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d job back in the queue.", "%d jobs back in the queue.", count) % count,
                          messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        state = jobs.queue_state()
        title = (f"Job queue: {state['waiting']} waiting (oldest {state['oldest_seconds']} s), "
                 f"{state['failed']} failed")
        return super().changelist_view(request, {"title": title, **(extra_context or {})})
