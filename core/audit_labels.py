"""What each audit action means, for people reading the log (the code stays in the row and the filter)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "api_token.created": _("Token API creato"),
    "event.created": _("Evento creato"),
    "event.updated": _("Evento modificato"),
    "event.registrations_purged": _("Iscrizioni anonimizzate a fine conservazione"),
    "event.tables_assigned": _("Tavoli assegnati dalle preferenze"),
    "event.tables_notified": _("Email dei tavoli inviate"),
    "idea.hidden": _("Idea nascosta"),
    "join_request.submitted": _("Richiesta di adesione inviata"),
    "join_request.approved": _("Richiesta di adesione approvata"),
    "join_request.rejected": _("Richiesta di adesione respinta"),
    "join_request.purged": _("Richiesta di adesione cancellata a fine conservazione"),
    "organisation.created": _("Organizzazione creata"),
    "organisation.profile_updated": _("Scheda dell'organizzazione modificata"),
    "registration.confirmed": _("Iscrizione confermata"),
    "registration.waitlisted": _("Iscrizione in lista d'attesa"),
    "registration.offered": _("Posto offerto"),
    "registration.cancelled": _("Iscrizione annullata"),
    "registration.deleted_by_person": _("Iscrizione annullata con la cancellazione dei dati"),
    "registration.data_deleted": _("Dati dell'iscrizione cancellati su richiesta"),
    "registration.promoted_confirmed": _("Promossa dalla lista d'attesa"),
    "registration.promoted_offered": _("Posto offerto dalla lista d'attesa"),
    "registration.offer_accepted": _("Posto offerto accettato"),
    "registration.offer_expired": _("Posto offerto scaduto"),
    "registration.checked_in": _("Ingresso registrato"),
    "registration.table_assigned": _("Tavolo assegnato"),
    "registration.table_chosen": _("Tavolo scelto"),
    "registration.table_moved": _("Spostata a un altro tavolo"),
    "registration.table_waitlisted": _("In attesa di un tavolo"),
    "table.summary_written": _("Sintesi del tavolo scritta"),
    "welfare.plan.created": _("Piano welfare creato"),
    "welfare.plan.funded": _("Versamento nel piano"),
    "welfare.plan.joined": _("Adesione a un piano della rete"),
    "welfare.plan.wallets_opened": _("Borsellini aperti"),
    "welfare.plan.closed": _("Piano chiuso"),
    "welfare.wallet.swept": _("Credito residuo spostato a fine piano"),
    "welfare.plan.deleted": _("Piano welfare eliminato"),
    "welfare.worker.enrolled": _("Lavoratore iscritto al welfare"),
    "welfare.worker.category_changed": _("Categoria del lavoratore cambiata"),
    "welfare.worker.children_declared": _("Dichiarazione dei figli a carico"),
    "welfare.order.placed": _("Acquisto con il credito welfare"),
    "welfare.order.cancelled": _("Acquisto annullato"),
    "welfare.voucher.redeemed": _("Voucher riscattato"),
    "welfare.refund.requested": _("Rimborso chiesto"),
    "welfare.refund.approved": _("Rimborso approvato"),
    "welfare.refund.rejected": _("Rimborso respinto"),
    "welfare.service.created": _("Servizio pubblicato"),
    "welfare.provider.proposed": _("Fornitore proposto"),
    "welfare.provider.invited": _("Fornitore proposto invitato"),
    "welfare.provider.declined": _("Fornitore proposto archiviato"),
    "welfare.provider.paid": _("Pagamento al fornitore registrato"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def describe_changes(changes) -> list[tuple[str, str]]:
    """The `changes` of a row as (what, how) pairs: `[old, new]` reads "old → new", a list its items."""
    if not isinstance(changes, dict):
        return [("", str(changes))] if changes else []
    described = []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2 and not any(isinstance(v, list | dict) for v in value):
            text = f"{_blank(value[0])} → {_blank(value[1])}"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = _blank(value)
        described.append((key.replace("_", " "), text))
    return described


def _blank(value) -> str:
    return "—" if value in (None, "", [], {}) else str(value)
