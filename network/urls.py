from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("<slug:territory>/organizzazioni/", views.directory, name="directory"),
    path("<slug:territory>/organizzazioni/mappa.json", views.directory_map, name="directory_map"),
    path("<slug:territory>/organizzazioni/<slug:slug>/", views.organisation, name="organisation"),
    path("<slug:territory>/organizzazioni/<slug:slug>/modifica/", views.organisation_edit, name="organisation_edit"),
    path("<slug:territory>/organizzazioni/<slug:slug>/pdf/", views.organisation_pdf, name="organisation_pdf"),
    path("<slug:territory>/aderisci/", views.join, name="join"),
    path("<slug:territory>/aderisci/grazie/", views.join_thanks, name="join_thanks"),
    path("<slug:territory>/notizie/", views.articles, name="articles"),
    path("<slug:territory>/notizie/<slug:slug>/", views.article, name="article"),
    path("<slug:territory>/notizie/<slug:slug>/pdf/", views.article_pdf, name="article_pdf"),
    path("<slug:territory>/coordinamento/", views.coordination, name="coordination"),
    path("<slug:territory>/coordinamento/organizzazioni/", views.members, name="members"),
    path("<slug:territory>/coordinamento/adesioni/", views.join_requests, name="join_requests"),
    path("<slug:territory>/coordinamento/adesioni/<int:pk>/", views.join_request, name="join_request"),
    path("<slug:territory>/coordinamento/adesioni/<int:pk>/approva/", views.approve_join_request, name="approve_join_request"),
    path("<slug:territory>/coordinamento/adesioni/<int:pk>/respingi/", views.reject_join_request, name="reject_join_request"),
    path("<slug:territory>/coordinamento/registro/", views.audit_log, name="audit_log"),
    path("<slug:territory>/coordinamento/notizie/", views.manage_articles, name="manage_articles"),
    path("<slug:territory>/coordinamento/notizie/nuova/", views.article_new, name="article_new"),
    path("<slug:territory>/coordinamento/notizie/<int:pk>/", views.article_edit, name="article_edit"),
    path("<slug:territory>/coordinamento/notizie/<int:pk>/elimina/", views.article_delete, name="article_delete"),
]
