"""Registrations and attendance as CSV and XLSX, one row per person, one column per question."""

import csv
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .models import Event, Registration


def _rows(event: Event):
    questions = list(event.questions.all())
    header = [
        _("Codice"), _("Stato"), _("Nome"), _("Cognome"), _("Email"), _("Organizzazione"), _("Ruolo"),
        _("Esigenze di accessibilità"), _("Tavolo"), _("Newsletter"), _("Foto"), _("Iscritto il"), _("Presente dalle"),
        *[q.label for q in questions],
    ]
    yield header
    registrations = (
        Registration.objects.filter(event=event).select_related("table").order_by("created_at", "pk")
    )
    for r in registrations.iterator(chunk_size=500):
        answers = []
        for q in questions:
            value = (r.answers.get(str(q.pk)) or {}).get("answer", "")
            answers.append(", ".join(value) if isinstance(value, list) else value)
        yield [
            r.ticket_code, r.get_status_display(), r.first_name, r.last_name, r.email, r.organisation_name,
            r.role_title, r.accessibility_needs, r.table.title if r.table else "",
            _("sì") if r.newsletter_opt_in else _("no"), _("sì") if r.photo_opt_in else _("no"),
            timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(r.checked_in_at).strftime("%Y-%m-%d %H:%M") if r.checked_in_at else "",
            *answers,
        ]


def _safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def registrations_csv(event: Event) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # Italian spreadsheets expect semicolons
    for row in _rows(event):
        writer.writerow([_safe(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8


def registrations_xlsx(event: Event) -> bytes:
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = _("Iscrizioni")[:31]
    for index, row in enumerate(_rows(event)):
        sheet.append([_safe(v) for v in row])
        if index == 0:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
