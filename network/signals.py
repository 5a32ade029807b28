"""Housekeeping: a change to what public pages show invalidates their cache."""

from django.db.models.signals import post_delete, post_save

from core.cache import bump_public_pages
from core.models import Municipio, Page, Territory

from .models import Article, Organisation

for model in (Organisation, Article, Page, Territory, Municipio):
    post_save.connect(bump_public_pages, sender=model, dispatch_uid=f"public-pages-{model._meta.label}-save")
    post_delete.connect(bump_public_pages, sender=model, dispatch_uid=f"public-pages-{model._meta.label}-delete")
