from django.urls import path, re_path

from . import views

app_name = "welfare"

urlpatterns = [
    # Public: the catalogue of the network's providers.
    path("<slug:territory>/welfare/", views.catalogue, name="catalogue"),
    path("<slug:territory>/welfare/mappa.json", views.catalogue_map, name="catalogue_map"),
    path("<slug:territory>/welfare/servizi/<slug:slug>/", views.service, name="service"),
    # Workers.
    path("<slug:territory>/welfare/servizi/<slug:slug>/acquista/", views.order, name="order"),
    path("<slug:territory>/welfare/proponi-fornitore/", views.propose_provider, name="propose_provider"),
    path("welfare/il-mio-welfare/", views.my_welfare, name="my_welfare"),
    path("welfare/il-mio-welfare/<int:worker_id>/figli/", views.declare_children, name="declare_children"),
    path("welfare/rimborsi/nuovo/", views.refund_new, name="refund_new"),
    path("welfare/rimborsi/<int:pk>/ricevuta/", views.refund_receipt, name="refund_receipt"),
    # A voucher code is 10 letters and digits (models.new_voucher_code): nothing else reaches the query.
    re_path(r"^welfare/voucher/(?P<code>[A-Za-z0-9]{1,20})/$", views.voucher, name="voucher"),
    re_path(r"^welfare/voucher/(?P<code>[A-Za-z0-9]{1,20})/pdf/$", views.voucher_pdf, name="voucher_pdf"),
    re_path(r"^welfare/voucher/(?P<code>[A-Za-z0-9]{1,20})/annulla/$", views.cancel_order, name="cancel_order"),
    # An organisation's welfare (its admin).
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/", views.organisation_welfare, name="organisation"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/piani/nuovo/", views.plan_new, name="plan_new"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/piani/<int:plan_id>/versa/", views.plan_fund, name="plan_fund"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/piani/<int:plan_id>/elimina/", views.plan_delete,
         name="plan_delete"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/piani/<int:plan_id>/partecipa/", views.plan_join, name="plan_join"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/lavoratori/nuovo/", views.worker_new, name="worker_new"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/lavoratori/importa/", views.worker_import, name="worker_import"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/lavoratori/importazioni/<int:pk>/", views.worker_import_status,
         name="worker_import_status"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/lavoratori/<int:worker_id>/categoria/",
         views.worker_category, name="worker_category"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/rimborsi/<int:pk>/", views.refund_decide, name="refund_decide"),
    path("<slug:territory>/organizzazioni/<slug:slug>/welfare/cedolino-<int:year>.csv", views.payroll_export, name="payroll_export"),
    # A provider's desk.
    path("<slug:territory>/organizzazioni/<slug:slug>/fornitore/", views.provider, name="provider"),
    path("<slug:territory>/organizzazioni/<slug:slug>/fornitore/servizi/nuovo/", views.service_edit, name="service_new"),
    path("<slug:territory>/organizzazioni/<slug:slug>/fornitore/servizi/<slug:service_slug>/", views.service_edit, name="service_edit"),
    re_path(
        r"^(?P<territory>[-a-zA-Z0-9_]+)/organizzazioni/(?P<slug>[-a-zA-Z0-9_]+)/fornitore/rendiconto-(?P<year>[0-9]{4})-(?P<month>[0-9]{2})\.(?P<fmt>pdf|csv)$",
        views.statement, name="statement",
    ),
    # The coordinator.
    path("<slug:territory>/coordinamento/welfare/", views.coordination, name="coordination"),
    path("<slug:territory>/coordinamento/welfare/piani/nuovo/", views.pooled_plan_new, name="pooled_plan_new"),
    path("<slug:territory>/coordinamento/welfare/proposte/<int:pk>/", views.proposal_decide, name="proposal_decide"),
    path("<slug:territory>/coordinamento/welfare/pagamenti/<slug:slug>/<int:year>-<int:month>/", views.provider_payout,
         name="provider_payout"),
]
