"""Housekeeping: a change to the catalogue invalidates the cached public pages."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from core.cache import bump_public_pages

from .models import Service

post_save.connect(bump_public_pages, sender=Service, dispatch_uid="public-pages-welfare.Service-save")
post_delete.connect(bump_public_pages, sender=Service, dispatch_uid="public-pages-welfare.Service-delete")
m2m_changed.connect(bump_public_pages, sender=Service.municipi.through, dispatch_uid="public-pages-welfare.Service-municipi")
