from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include("allauth.urls")),
    path("area-riservata/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("network.urls")),
    path("", include("events.urls")),
    path("", include("welfare.urls")),
    # Last: its "<territory>/" catches any other first segment.
    path("", include("core.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# allauth renders its rate-limited answers with this (Django itself has no 429 handler).
handler429 = "core.views.too_many_requests"
