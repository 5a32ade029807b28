from django.urls import path, re_path

from . import views

app_name = "events"

urlpatterns = [
    path("<slug:territory>/eventi/", views.event_list, name="event_list"),
    path("<slug:territory>/eventi.ics", views.territory_ics, name="territory_ics"),
    # Before the event pattern, which would read "nuovo" as a slug (the editor refuses it as one).
    path("<slug:territory>/eventi/nuovo/", views.event_new, name="new"),
    path("<slug:territory>/eventi/<slug:slug>/", views.event_detail, name="event"),
    path("<slug:territory>/eventi/<slug:slug>/pdf/", views.event_pdf, name="event_pdf"),
    path("<slug:territory>/eventi/<slug:slug>/evento.ics", views.event_ics, name="event_ics"),
    path("<slug:territory>/eventi/<slug:slug>/iscriviti/", views.register, name="register"),
    path("<slug:territory>/eventi/<slug:slug>/iscriviti/rimanda-link/", views.resend_link, name="resend_link"),
    path("<slug:territory>/eventi/<slug:slug>/accoglienza/", views.check_in, name="check_in"),
    path("<slug:territory>/eventi/<slug:slug>/accoglienza/presenze/", views.attendance, name="attendance"),
    path("<slug:territory>/eventi/<slug:slug>/gestione/", views.manage, name="manage"),
    re_path(r"^(?P<territory>[-a-zA-Z0-9_]+)/eventi/(?P<slug>[-a-zA-Z0-9_]+)/gestione/iscrizioni\.(?P<fmt>csv|xlsx)$", views.export, name="export"),
    path("<slug:territory>/eventi/<slug:slug>/gestione/badge.pdf", views.badges, name="badges"),
    path("<slug:territory>/eventi/<slug:slug>/gestione/attestati.pdf", views.certificates, name="certificates"),
    path("iscrizioni/<uuid:token>/attestato.pdf", views.certificate, name="certificate"),
    path("iscrizioni/<uuid:token>/", views.registration, name="registration"),
    path("iscrizioni/<uuid:token>/biglietto.pdf", views.ticket_pdf, name="ticket_pdf"),
    path("iscrizioni/<uuid:token>/annulla/", views.cancel, name="cancel"),
    path("iscrizioni/<uuid:token>/accetta/", views.accept_offer, name="accept_offer"),
    path("iscrizioni/<uuid:token>/tavolo/", views.choose_table, name="choose_table"),
    path("iscrizioni/<uuid:token>/cancella-dati/", views.delete_data, name="delete_data"),
    path("<slug:territory>/eventi/<slug:slug>/modifica/", views.event_edit, name="edit"),
    path("<slug:territory>/eventi/<slug:slug>/tavoli/<int:table_id>/", views.table_board, name="table_board"),
    path("<slug:territory>/eventi/<slug:slug>/tavoli/<int:table_id>/sintesi/", views.table_summary, name="table_summary"),
    path("iscrizioni/<uuid:token>/tavoli/<int:table_id>/", views.board, name="board"),
    path("iscrizioni/<uuid:token>/idee/<int:idea_id>/voto/", views.vote, name="vote"),
]
