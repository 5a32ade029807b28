"""What each audit action means, for people reading the log (the code stays in the row and the filter)."""

from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "api_token.created": _("Token API creato"),
    "event.created": _("Evento creato"),
    "event.updated": _("Evento modificato"),
    "event.registrations_purged": _("Iscrizioni anonimizzate a fine conservazione"),
    "event.tables_assigned": _("Tavoli assegnati dalle preferenze"),
    "event.tables_notified": _("Email dei tavoli inviate"),
    "idea.hidden": _("Idea nascosta"),
    "idea.shown": _("Idea mostrata di nuovo"),
    "join_request.submitted": _("Richiesta di adesione inviata"),
    "join_request.approved": _("Richiesta di adesione approvata"),
    "join_request.rejected": _("Richiesta di adesione respinta"),
    "join_request.purged": _("Richiesta di adesione cancellata a fine conservazione"),
    "organisation.created": _("Organizzazione creata"),
    "organisation.profile_updated": _("Scheda dell'organizzazione modificata"),
    "organisation.left_network": _("Organizzazione uscita dalla rete"),
    "organisation.readmitted": _("Organizzazione riammessa nella rete"),
    "article.created": _("Notizia creata"),
    "article.updated": _("Notizia modificata"),
    "article.published": _("Notizia pubblicata"),
    "article.unpublished": _("Notizia ritirata dalla pubblicazione"),
    "article.deleted": _("Bozza di notizia eliminata"),
    "registration.confirmed": _("Iscrizione confermata"),
    "registration.waitlisted": _("Iscrizione in lista d'attesa"),
    "registration.offered": _("Posto offerto"),
    "registration.cancelled": _("Iscrizione annullata"),
    "registration.deleted_by_person": _("Iscrizione annullata con la cancellazione dei dati"),
    "registration.data_deleted": _("Dati dell'iscrizione cancellati su richiesta"),
    "registration.promoted_confirmed": _("Promossa dalla lista d'attesa"),
    "registration.promoted_offered": _("Posto offerto dalla lista d'attesa"),
    "registration.confirmed_out_of_turn": _("Confermata fuori turno dal coordinamento"),
    "registration.offer_accepted": _("Posto offerto accettato"),
    "registration.offer_expired": _("Posto offerto scaduto"),
    "registration.checked_in": _("Ingresso registrato"),
    "registration.check_in_undone": _("Ingresso annullato"),
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
    "welfare.import.started": _("Importazione di lavoratori avviata"),
    "welfare.import.done": _("Importazione di lavoratori completata"),
    "welfare.import.refused": _("Importazione di lavoratori non eseguita"),
    "welfare.worker.category_changed": _("Categoria del lavoratore cambiata"),
    "welfare.worker.children_declared": _("Dichiarazione dei figli a carico"),
    "welfare.order.placed": _("Acquisto con il credito welfare"),
    "welfare.order.cancelled": _("Acquisto annullato"),
    "welfare.voucher.redeemed": _("Voucher riscattato"),
    "welfare.refund.requested": _("Rimborso chiesto"),
    "welfare.refund.approved": _("Rimborso approvato"),
    "welfare.refund.rejected": _("Rimborso respinto"),
    "welfare.service.created": _("Servizio creato"),
    "welfare.service.changed": _("Servizio modificato"),
    "welfare.provider.proposed": _("Fornitore proposto"),
    "welfare.provider.invited": _("Fornitore proposto invitato"),
    "welfare.provider.declined": _("Fornitore proposto archiviato"),
    "welfare.provider.paid": _("Pagamento al fornitore registrato"),
}


# The actors that are no person, as core/audit.py and the services write them.
ACTOR_LABELS = {
    "sistema": _("sistema (operazione automatica)"),
    "anonimo": _("visitatore non registrato"),
}


# What the keys of `changes` mean; a key naming a field of the row's model takes the field's own name.
CHANGE_LABELS = {
    "admin": _("amministratore"),
    "amount_cents": _("importo"),
    "categories": _("categorie ammesse"),
    "category": _("categoria"),
    "created": _("creato"),
    "emails": _("email"),
    "fee_cents": _("commissione della rete"),
    "gross_cents": _("totale"),
    "has_dependent_children": _("figli a carico"),
    "name": _("nome"),
    "new_account": _("nuovo account"),
    "organisation": _("organizzazione"),
    "phone": _("telefono"),
    "pooled": _("piano della rete"),
    "reason": _("motivo"),
    "registrants_informed": _("iscritti avvisati"),
    "registrations": _("iscrizioni"),
    "satisfied": _("preferenze soddisfatte"),
    "seated": _("persone sedute"),
    "service": _("servizio"),
    "summary": _("sintesi"),
    "table": _("tavolo"),
    "text": _("testo"),
    "tiers": _("importi per categoria"),
    "to_wallet": _("al borsellino"),
    "unseated": _("persone senza tavolo"),
    "user": _("utente"),
    "wallet": _("borsellino"),
    "wallets": _("borsellini"),
    "wallets_emptied": _("borsellini svuotati"),
    "website": _("sito web"),
    # The event editor's rows, by model and what happened to them.
    "session_added": _("sessioni aggiunte"),
    "session_changed": _("sessioni modificate"),
    "session_deleted": _("sessioni eliminate"),
    "question_added": _("domande aggiunte"),
    "question_changed": _("domande modificate"),
    "question_deleted": _("domande eliminate"),
    "workingtable_added": _("tavoli aggiunti"),
    "workingtable_changed": _("tavoli modificati"),
    "workingtable_deleted": _("tavoli eliminati"),
    "organisers": _("organizzatori"),
    "calendar_sequence": _("versione del calendario"),
}
# Keys whose value is a list of things, never an [old, new] pair, even when it holds two.
LIST_KEYS = {"categories"}
LIST_SUFFIXES = ("_added", "_changed", "_deleted")
# Keys whose values (or whose mapping's values) are amounts in cents.
MONEY_KEYS = {"tiers"}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def describe_changes(changes, *, model=None, organisation_names: dict[int, str] | None = None) -> list[tuple[str, str]]:
    """The `changes` of a row as (what, how) pairs for people: `[old, new]` reads "old → new", amounts in
    euros, yes/no in words, an organisation by its name when `organisation_names` has it. `model` is the
    row's model, whose fields name the keys that are fields."""
    if not isinstance(changes, dict):
        return [("", str(changes))] if changes else []
    names = organisation_names or {}
    described = []
    for key, value in changes.items():
        money = key.endswith("_cents") or key in MONEY_KEYS

        def show(item, money=money, key=key):
            if key == "organisation" and isinstance(item, int):
                return names.get(item, str(item))
            if key.endswith("_at") and isinstance(item, str):
                return _moment(item)
            if key == "categories" and isinstance(item, str):
                return item.replace("_", "-")  # the letter of TUIR art. 51: f_bis reads f-bis
            return _value(item, money=money)

        is_list = key in LIST_KEYS or key.endswith(LIST_SUFFIXES)
        if isinstance(value, list) and len(value) == 2 and not is_list and not any(isinstance(v, dict) for v in value):
            # [old, new]; each side may itself be a list (an event's organisers before and after).
            old, new = (", ".join(show(v) for v in side) or "—" if isinstance(side, list) else show(side)
                        for side in value)
            text = f"{old} → {new}"
        elif isinstance(value, list):
            text = ", ".join(show(v) for v in value) or "—"
        elif isinstance(value, dict):
            # In key order ("" for everyone first): PostgreSQL's jsonb keeps its own, SQLite the written one.
            items = sorted(value.items(), key=lambda item: (item[0] != "", str(item[0])))
            text = ", ".join(f"{k or _('tutti')}: {show(v)}" for k, v in items) or "—"
        elif value is True and _is_text(key, model):
            text = str(_("modificato"))  # a long text: the row says that it changed, not what it said
        else:
            text = show(value)
        described.append((_key_label(key, model), text))
    return described


def _key_label(key: str, model) -> str:
    if key in CHANGE_LABELS:
        return str(CHANGE_LABELS[key])
    if model is not None:
        try:
            return str(model._meta.get_field(key).verbose_name)
        except FieldDoesNotExist:
            pass
    return key.replace("_", " ")


def _is_text(key: str, model) -> bool:
    try:
        return model is not None and model._meta.get_field(key).get_internal_type() in ("CharField", "TextField")
    except FieldDoesNotExist:
        return False


def _moment(value: str) -> str:
    """A moment stored as text (ISO 8601, or str() of an aware datetime), in the territory's time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")


def _value(value, *, money: bool) -> str:
    from .money import euros

    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return str(_("sì") if value else _("no"))
    if money and isinstance(value, int):
        return euros(value)
    return str(value)
