from django.contrib import admin

from .models import AuditLog, Municipio, Page, SentMail, Territory


class MunicipioInline(admin.TabularInline):
    model = Municipio
    extra = 0


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "network_name", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MunicipioInline]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "updated_at"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "territory", "actor_label", "action", "object_repr"]
    list_filter = ["territory", "action"]
    search_fields = ["actor_label", "object_repr", "action"]

    # The log is evidence: nobody edits or deletes it, not even in the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SentMail)
class SentMailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject"]
    search_fields = ["to", "subject"]
