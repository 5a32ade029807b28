from django.contrib import admin
from django.db import models

from core.forms import RowsChoiceField

from .models import FringeThreshold, ProviderProposal, Service, Terms, Transfer


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "category", "price_cents", "is_published"]
    list_filter = ["territory", "category", "is_published"]
    search_fields = ["title", "provider__name"]
    prepopulated_fields = {"slug": ["title"]}
    formfield_overrides = {models.ManyToManyField: {"form_class": RowsChoiceField}}


@admin.register(FringeThreshold)
class FringeThresholdAdmin(admin.ModelAdmin):
    list_display = ["from_year", "amount_cents", "amount_with_children_cents", "legal_basis"]


@admin.register(Terms)
class TermsAdmin(admin.ModelAdmin):
    list_display = ["territory", "provider_fee_basis_points"]


@admin.register(ProviderProposal)
class ProviderProposalAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "category", "status", "created_at"]
    list_filter = ["territory", "status"]


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    """Read-only: money moves only through welfare/services.py, never by hand."""

    list_display = ["pk", "territory", "kind", "memo", "created_at"]
    list_filter = ["territory", "kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
