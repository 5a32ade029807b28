from django.contrib import admin

from .models import Article, JoinRequest, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "kind", "network_role", "municipio", "is_active"]
    list_filter = ["territory", "kind", "network_role", "is_active"]
    search_fields = ["name", "vat_number", "tax_code"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "status", "created_at"]
    list_filter = ["territory", "status"]
    readonly_fields = ["status", "decided_at", "decided_by", "organisation", "privacy_acknowledged_at"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "published_at"]
    list_filter = ["territory"]
    prepopulated_fields = {"slug": ["title"]}
