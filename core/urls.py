from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("pagine/<slug:slug>/", views.page, name="page"),
    path("pagine/<slug:slug>/pdf/", views.page_pdf, name="page_pdf"),
    path("posta/<uuid:token>/", views.sent_mail, name="sent_mail"),
    path("posta/<uuid:token>/allegati/<int:attachment_id>/", views.sent_mail_attachment, name="sent_mail_attachment"),
    path("lingua/<str:code>/", views.switch_language, name="switch_language"),
    path("<slug:territory>/", views.territory_home, name="territory_home"),
]
