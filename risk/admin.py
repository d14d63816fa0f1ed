from django import forms
from django.contrib import admin

from api.admin import BoundedDates

from . import services
from .models import BlockedIP, Incident, LoginEvent


@admin.register(Incident)
class IncidentAdmin(BoundedDates, admin.ModelAdmin):
    list_display = ["timestamp", "severity", "code", "event", "status", "user", "ip", "country"]
    list_filter = ["severity", "status", "code", "timestamp"]
    search_fields = ["subject", "ip", "user__email"]
    date_hierarchy = "timestamp"
    readonly_fields = ["id", "code", "event", "severity", "user", "ip", "country", "details", "subject",
                       "timestamp", "status_changed_by", "status_changed_at"]
    fields = readonly_fields[:-2] + ["status", "note", "status_changed_by", "status_changed_at"]
    actions = ["acknowledge", "resolve"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def _set(self, request, queryset, status):
        for incident in queryset:
            services.set_incident_status(incident=incident, status=status, note="", by=request.user)
        self.message_user(request, f"{queryset.count()} incident(s) marked {status}.")

    @admin.action(description="Acknowledge selected incidents")
    def acknowledge(self, request, queryset):
        self._set(request, queryset, Incident.Status.ACKNOWLEDGED)

    @admin.action(description="Resolve selected incidents")
    def resolve(self, request, queryset):
        self._set(request, queryset, Incident.Status.RESOLVED)


@admin.register(LoginEvent)
class LoginEventAdmin(BoundedDates, admin.ModelAdmin):
    list_display = ["timestamp", "attempted_email", "successful", "ip", "country", "user"]
    list_filter = ["successful", "country", "timestamp"]
    search_fields = ["attempted_email", "ip"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BlockedIPForm(forms.ModelForm):
    class Meta:
        model = BlockedIP
        fields = ["cidr", "reason"]

    def clean_cidr(self):
        try:
            return services.normalize_cidr(self.cleaned_data["cidr"])
        except ValueError as exc:
            raise forms.ValidationError("An IP address or CIDR range, e.g. 203.0.113.0/24.") from exc


@admin.register(BlockedIP)
class BlockedIPAdmin(admin.ModelAdmin):
    form = BlockedIPForm
    list_display = ["cidr", "reason", "created_by", "created_at"]
    search_fields = ["cidr", "reason"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
