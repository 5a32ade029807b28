"""Registrations and attendance as CSV and XLSX, one row per person, one column per question."""

import io
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.spreadsheets import csv_bytes, safe_cell

from .models import Event, Registration


def _rows(event: Event):
    questions = list(event.questions.all())
    has_tables = event.table_mode != Event.TableMode.NONE
    is_ranked = event.table_mode == Event.TableMode.RANKED
    # With working tables the clerk also needs who waits for which table and, when people ranked
    # them, their order of choice ("1. Welfare; 2. D&I"), to explain or redo an assignment by hand.
    table_header = [_("Tavolo"), *([_("In attesa del tavolo")] if has_tables else []),
                    *([_("Preferenze sui tavoli")] if is_ranked else [])]
    header = [
        _("Codice"), _("Stato"), _("Nome"), _("Cognome"), _("Email"), _("Organizzazione"), _("Ruolo"),
        _("Esigenze di accessibilità"), *table_header, _("Newsletter"), _("Foto"), _("Iscritto il"), _("Presente dalle"),
        *[q.label for q in questions],
    ]
    yield header
    registrations = (
        Registration.objects.filter(event=event).select_related("table", "waiting_table").order_by("created_at", "pk")
    )
    if is_ranked:
        registrations = registrations.prefetch_related("preferences__table")
    for r in registrations.iterator(chunk_size=500):
        answers = [q.display((r.answers.get(str(q.pk)) or {}).get("answer", "")) for q in questions]
        tables = [r.table.title if r.table else ""]
        if has_tables:
            tables.append(r.waiting_table.title if r.waiting_table else "")
        if is_ranked:
            ranked = sorted(r.preferences.all(), key=lambda preference: preference.rank)
            tables.append("; ".join(f"{p.rank}. {p.table.title}" for p in ranked))
        yield [
            r.ticket_code, r.get_status_display(), r.first_name, r.last_name, r.email, r.organisation_name,
            r.role_title, r.accessibility_needs, *tables,
            _("Sì") if r.newsletter_opt_in else _("No"), _("Sì") if r.photo_opt_in else _("No"),
            _local(r.created_at), _local(r.checked_in_at) if r.checked_in_at else "",
            *answers,
        ]


def _local(moment) -> datetime:
    # Spreadsheets know no time zones: the local time, to the minute.
    return timezone.localtime(moment).replace(tzinfo=None, second=0, microsecond=0)


def registrations_csv(event: Event) -> bytes:
    return csv_bytes([f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else v for v in row] for row in _rows(event))


def registrations_xlsx(event: Event) -> bytes:
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = _("Iscrizioni")[:31]
    for index, row in enumerate(_rows(event)):
        sheet.append([safe_cell(v) for v in row])
        for cell in sheet[index + 1]:
            if isinstance(cell.value, datetime):  # a real date, which the spreadsheet sorts and filters
                cell.number_format = "dd/mm/yyyy hh:mm"
        if index == 0:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    # Columns as wide as their longest cell (within reason), so headers and dates are readable as
    # opened: the default width cut "Preferenze sui tavoli" and showed dates as #####.
    for column in sheet.columns:
        longest = max(16 if isinstance(c.value, datetime) else len(str(c.value or "")) for c in column)
        sheet.column_dimensions[get_column_letter(column[0].column)].width = min(max(longest + 2, 8), 50)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
