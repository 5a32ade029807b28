"""The welfare pages as each persona uses them: catalogue, buying, the firm's desk, the provider's till."""

import re
from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import make_organisation, make_user
from core.models import AuditLog
from welfare import services
from welfare.models import Category, Order, Plan, ProviderProposal, RefundRequest, Worker

from .factories import enrol, ensure_thresholds, make_plan, make_service, tax_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(territory, firm, coop, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ensure_thresholds()
    make_plan(firm, amount_cents=30000, fund_cents=300000)
    worker = enrol(firm, 1, user=personas["worker"])
    service = make_service(coop, price_cents=12000, title="Doposcuola del quartiere", category=Category.EDUCATION,
                           latitude="45.47", longitude="9.2")
    return {"worker": worker, "service": service}


FIRM = "/milano/organizzazioni/officine-test"


def hidden(response, name) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', response.content.decode()).group(1)


def import_file(client, rows: str, capture):
    """Send a CSV of workers and read the import's page once the background worker (run on commit by
    the tests' immediate task backend) has enrolled it."""
    with capture(execute=True):
        answer = client.post(f"{FIRM}/welfare/lavoratori/importa/", {"file": SimpleUploadedFile("w.csv", rows.encode())})
    if answer.status_code != 302:
        return answer
    return client.get(answer.url)


def test_catalogue_lists_filters_and_serves_its_fragment(client, world, coop):
    make_service(coop, title="Corso di yoga", category=Category.WELLBEING)
    page = client.get("/milano/welfare/")
    assert page.status_code == 200 and "Doposcuola del quartiere" in page.content.decode()
    filtered = client.get("/milano/welfare/", {"categoria": "f"}, HTTP_HX_REQUEST="true")
    assert "Corso di yoga" in filtered.content.decode() and "Doposcuola" not in filtered.content.decode()
    assert "<html" not in filtered.content.decode()
    empty = client.get("/milano/welfare/", {"q": "nessunaparolacosì"})
    assert "Nessun risultato" in empty.content.decode()
    points = client.get("/milano/welfare/mappa.json").json()["points"]
    assert points == [{"name": "Doposcuola del quartiere", "lat": 45.47, "lon": 9.2,
                       "url": world["service"].get_absolute_url()}]
    bad = client.get("/milano/welfare/", {"lat": "999", "lon": "9"})
    assert bad.status_code == 200 and "Corso di yoga" in bad.content.decode()  # the bad point is ignored, shown
    half = client.get("/milano/welfare/", {"lat": "45.47"}).content.decode()
    assert "Indica anche la longitudine" in half and "Corso di yoga" in half


def test_a_provider_and_its_services_lead_to_each_other(client, world, coop, firm):
    yoga = make_service(coop, title="Corso di yoga")
    make_service(coop, title="Servizio in bozza", is_published=False)
    provider_page = client.get(f"/milano/organizzazioni/{coop.slug}/").content.decode()
    assert "Servizi nel catalogo welfare" in provider_page
    assert f'href="/milano/welfare/servizi/{yoga.slug}/"' in provider_page and "Servizio in bozza" not in provider_page
    service_page = client.get(yoga.get_absolute_url()).content.decode()
    assert f'href="/milano/organizzazioni/{coop.slug}/">{coop.name}</a>' in service_page
    # An organisation that offers nothing has no such section.
    assert "Servizi nel catalogo welfare" not in client.get(f"/milano/organizzazioni/{firm.slug}/").content.decode()


def test_a_worker_buys_from_the_service_page_once_even_clicking_twice(client_as, world, personas):
    client = client_as(personas["worker"])
    page = client.get(world["service"].get_absolute_url())
    assert "Acquista per 120,00" in page.content.decode()
    form = {"key": hidden(page, "key"), "wallet": hidden(page, "wallet")}
    url = f"{world['service'].get_absolute_url()}acquista/"
    first = client.post(url, form)
    second = client.post(url, form)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    voucher = client.get(order.get_absolute_url())
    assert order.code in voucher.content.decode() and "<svg" in voucher.content.decode()
    assert client.get(f"{order.get_absolute_url()}pdf/")["Content-Type"] == "application/pdf"
    mine = client.get("/welfare/il-mio-welfare/").content.decode()
    assert "180,00" in mine and "Doposcuola del quartiere" in mine
    # 180 € left, a second one costs 120: still offered; after it, 60 € left, the page says it is not enough.
    services.place_order(worker=world["worker"], service=world["service"], key="k-2", actor=None)
    page = client.get(world["service"].get_absolute_url()).content.decode()
    assert "Acquista per 120,00" not in page
    assert "Il credito non basta per questo servizio, che costa 120,00" in page and "60,00" in page


def test_the_employer_never_sees_a_workers_voucher(client_as, world, personas):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    for persona in ("org_admin", "org_staff", "coordinator", "outsider"):
        assert client_as(personas[persona]).get(order.get_absolute_url()).status_code == 404, persona
    assert client_as(personas["provider_staff"]).get(order.get_absolute_url()).status_code == 200


def test_the_firm_creates_a_plan_and_bad_tiers_change_nothing(client_as, world, personas, firm):
    client = client_as(personas["org_admin"])
    year = timezone.localdate().year
    base = {"name": "Piano impiegati", "valid_from": f"{year}-01-01", "valid_until": f"{year}-12-31",
            "categories": ["f_bis", "f_ter"], "unused_credit": "return"}
    refused = client.post(f"{FIRM}/welfare/piani/nuovo/", {**base, "tiers": "impiegati: 300\nimpiegati: 400"})
    assert refused.status_code == 422 and "compare due volte" in refused.content.decode()
    refused = client.post(f"{FIRM}/welfare/piani/nuovo/", {**base, "tiers": "quadri: dieci euro"})
    assert refused.status_code == 422
    refused = client.post(f"{FIRM}/welfare/piani/nuovo/", {**base, "tiers": "500000"})  # 500 € with three zeros too many
    assert refused.status_code == 422 and "controlla gli zeri" in refused.content.decode()
    assert Plan.objects.count() == 1
    made = client.post(f"{FIRM}/welfare/piani/nuovo/", {**base, "tiers": "impiegati: 300\nquadri: 450,50"})
    assert made.status_code == 302
    plan = Plan.objects.get(name="Piano impiegati")
    assert {t.worker_category: t.amount_cents for t in plan.tiers.all()} == {"impiegati": 30000, "quadri": 45050}


def test_enrolling_checks_the_codice_fiscale_and_invites(client_as, world, personas, django_capture_on_commit_callbacks):
    client = client_as(personas["org_admin"])
    bad = client.post(f"{FIRM}/welfare/lavoratori/nuovo/", {"first_name": "Anna", "last_name": "Neri",
                                                           "tax_code": "RSSMRA85T10A562X", "email": "anna@example.org"})
    assert bad.status_code == 422 and "carattere di controllo" in bad.content.decode()
    assert f'href="{FIRM}/welfare/">Torna al welfare dell' in bad.content.decode()  # not a dead end
    long_email = "a" * 300 + "@example.org"  # a valid shape, longer than an address may be
    too_long = client.post(f"{FIRM}/welfare/lavoratori/nuovo/", {"first_name": "Anna", "last_name": "Neri",
                                                                "tax_code": tax_code(43), "email": long_email})
    assert too_long.status_code == 422 and 'id="id_email-error"' in too_long.content.decode()
    assert Worker.objects.count() == 1
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(f"{FIRM}/welfare/lavoratori/nuovo/", {"first_name": "Anna", "last_name": "Neri",
                                                                "tax_code": tax_code(42), "email": "anna@example.org"})
    assert good.status_code == 302
    assert Worker.objects.get(email="anna@example.org").wallets.get().account.balance_cents == 30000
    assert mail.outbox and "password" in mail.outbox[-1].body.lower()
    # Each plan with the dates it can be used between, so a plan starting later does not read as credit today.
    year = timezone.localdate().year
    assert f"300,00\u00a0€ (si usa dal 1 gennaio {year} al 31 dicembre {year})" in mail.outbox[-1].body


def test_csv_import_reports_bad_rows_and_imports_the_good_ones(client_as, world, personas,
                                                               django_capture_on_commit_callbacks):
    client = client_as(personas["org_admin"])
    rows = "\n".join([
        "codice_fiscale;nome;cognome;email;categoria",
        f"{tax_code(10)};Luca;Bianchi;luca@example.org;",
        "RSSMRA85T10A562X;Rosa;Verdi;rosa@example.org;",
        f"{tax_code(11)};Ugo;Neri;non-una-email;",
        f"{tax_code(12)};Ida;Riva;ida@example.org;",
        f"{tax_code(12)};Ida;Riva;ida2@example.org;",
        f"{tax_code(13)};Eva;Lunga;{'e' * 300}@example.org;",
    ])
    answer = import_file(client, rows, django_capture_on_commit_callbacks)
    text = answer.content.decode()
    assert answer.status_code == 200
    assert "2 lavoratori iscritti" in text and "4 righe non importate" in text
    assert "Codice fiscale ripetuto nel file." in text and "Email non valida." in text
    assert "importa un file che contiene solo quelle" in text
    # Each bad row by its spreadsheet row number and the person on it, to find it in the file.
    assert "<td>3</td><td>Rosa Verdi (RSSMRA85T10A562X)</td>" in text
    assert f"<td>4</td><td>Ugo Neri ({tax_code(11)})</td><td>Email non valida.</td>" in text
    assert set(Worker.objects.values_list("email", flat=True)) == {"worker@example.org", "luca@example.org",
                                                                  "ida@example.org"}
    # The report is read in the language of whoever opens it, not of whoever sent the file.
    english = client.get(answer.request["PATH_INFO"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"<td>4</td><td>Ugo Neri ({tax_code(11)})</td><td>Invalid email.</td>" in english
    assert "Email non valida." not in english and "check character" in english


def test_csv_import_takes_headers_as_people_type_them_and_says_when_nothing_was_imported(client_as, world, personas):
    client = client_as(personas["org_admin"])
    rows = "\n".join([
        "Codice fiscale;Nome;Cognome;E-mail;Categoria",
        f"{tax_code(20)};Luca;Bianchi;;",
        f"{tax_code(21)};Ugo;Neri;non-una-email;",
    ])
    answer = client.post(f"{FIRM}/welfare/lavoratori/importa/", {"file": SimpleUploadedFile("w.csv", rows.encode())})
    text = answer.content.decode()
    assert answer.status_code == 422
    assert "Mancano le colonne" not in text
    assert f"<td>2</td><td>Luca Bianchi ({tax_code(20)})</td><td>Email mancante.</td>" in text
    assert "<td>Email non valida.</td>" in text
    assert "Nessun lavoratore iscritto: ogni riga del file ha un problema." in text
    assert "riceveranno l&#x27;invito" not in text and "Le altre righe sono state importate" not in text
    assert not Worker.objects.filter(tax_code__in=[tax_code(20), tax_code(21)]).exists()


def test_csv_import_numbers_rows_as_a_spreadsheet_does(client_as, world, personas, django_capture_on_commit_callbacks):
    # An empty row and a cell with a line break in it (one spreadsheet row, two lines of text).
    rows = "\n".join([
        "codice_fiscale;nome;cognome;email",
        f'{tax_code(30)};"Anna\nMaria";Rossi;anna@example.org',
        "",
        f"{tax_code(31)};Ugo;Neri;non-una-email",
    ])
    answer = import_file(client_as(personas["org_admin"]), rows, django_capture_on_commit_callbacks)
    text = answer.content.decode()
    assert f"<td>4</td><td>Ugo Neri ({tax_code(31)})</td><td>Email non valida.</td>" in text
    assert Worker.objects.get(tax_code=tax_code(30)).first_name == "Anna Maria"


def test_next_years_unfunded_plan_does_not_stop_this_years_hires(client_as, world, firm, personas,
                                                                 django_capture_on_commit_callbacks):
    # December: the firm has made next year's plan and will pay into it in January.
    next_year = timezone.localdate().year + 1
    make_plan(firm, amount_cents=40000, fund_cents=0, name="Piano dell'anno prossimo",
              valid_from=date(next_year, 1, 1), valid_until=date(next_year, 12, 31))
    client = client_as(personas["org_admin"])
    answer = client.post(f"{FIRM}/welfare/lavoratori/nuovo/", {"first_name": "Anna", "last_name": "Neri",
                                                              "tax_code": tax_code(42), "email": "anna@example.org"},
                         follow=True)
    text = answer.content.decode()
    assert "Iscrizione di Anna Neri registrata" in text
    assert "Il fondo del piano «Piano dell&#x27;anno prossimo» non basta ancora" in text
    anna = Worker.objects.get(email="anna@example.org")
    assert [w.plan.name for w in anna.wallets.all()] == [f"Piano {timezone.localdate().year}"]

    rows = "codice_fiscale,nome,cognome,email\n" + f"{tax_code(43)},Ugo,Riva,ugo@example.org"
    imported = import_file(client, rows, django_capture_on_commit_callbacks)
    assert imported.status_code == 200 and "1 lavoratore iscritto" in imported.content.decode()
    assert "Piano dell&#x27;anno prossimo» non basta ancora" in imported.content.decode()

    # January's payment covers two of the three workers: recorded, and the page says why no wallet opened.
    plan = Plan.objects.get(name="Piano dell'anno prossimo")
    fund_url = f"{FIRM}/welfare/piani/{plan.pk}/versa/"
    short = client.post(fund_url, {"amount": "800", "key": "gennaio-1"}, follow=True).content.decode()
    assert "Versamento registrato." in short
    # What all three waiting still lack (3 × 400 € − 800 €), not what the last one's turn found missing.
    assert "per i 3 lavoratori in attesa di credito (servono 1.200,00\xa0€, il fondo ne ha 800,00\xa0€)" in short
    assert "versa almeno altri 400,00\xa0€" in short
    assert not plan.wallets.exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enough = client.post(fund_url, {"amount": "400", "key": "gennaio-2"}, follow=True).content.decode()
    assert "Credito assegnato a 3 lavoratori" in enough
    # Each of them hears of it: enrolled before the money came, their invitation listed no such credit.
    credit = {m.to[0]: m for m in mail.outbox if m.subject.startswith("Nuovo credito welfare")}
    assert set(credit) == {"worker@example.org", "anna@example.org", "ugo@example.org"}
    assert f"Piano dell'anno prossimo: 400,00\N{NO-BREAK SPACE}€ (da usare dal 1 gennaio {next_year}" in credit["anna@example.org"].body
    assert sorted(w.account.balance_cents for w in plan.wallets.select_related("account")) == [40000] * 3

    # The worker sees first the credit usable today, then next year's, said to be not usable yet.
    mine = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    this_year = mine.index(f"Piano {timezone.localdate().year}<")
    later = mine.index("Piano dell&#x27;anno prossimo")
    assert this_year < later
    assert f"Non ancora attivo: si usa dal 1 gennaio {next_year}" in mine[later:]
    assert "Non ancora attivo" not in mine[:later]


def test_csv_import_is_all_or_nothing_when_the_pool_runs_out(client_as, territory, firm, personas,
                                                             django_capture_on_commit_callbacks):
    ensure_thresholds()
    make_plan(firm, amount_cents=30000, fund_cents=60000)  # enough for two
    rows = "codice_fiscale,nome,cognome,email\n" + "\n".join(
        f"{tax_code(n)},Nome{n},Prova,p{n}@example.org" for n in range(20, 23)
    ) + "\nRSSMRA85T10A562X,Rosa,Verdi,rosa@example.org"
    answer = import_file(client_as(personas["org_admin"]), rows, django_capture_on_commit_callbacks)
    text = answer.content.decode()
    assert answer.status_code == 422 and "Il fondo del piano" in text and "Il file non è stato importato." in text
    # One instruction: the whole file again, once the bad row is corrected too (nothing of it went in).
    assert "Correggi anche queste righe prima di importare di nuovo il file" in text and "solo quelle" not in text
    assert not Worker.objects.exists()


def test_refund_by_the_web_then_rejected_with_a_reason(client_as, world, personas, django_capture_on_commit_callbacks):
    worker_client = client_as(personas["worker"])
    page = worker_client.get("/welfare/rimborsi/nuovo/")
    form = {"key": hidden(page, "key"), "wallet": world["worker"].wallets.get().pk, "category": "f_bis",
            "amount": "50", "description": "Retta del nido", "expense_date": date.today().isoformat()}
    exe = worker_client.post("/welfare/rimborsi/nuovo/", {**form, "receipt": SimpleUploadedFile("r.pdf", b"MZ\x90")})
    assert exe.status_code == 422 and not RefundRequest.objects.exists()
    for key in ("", "k" * 10_000):  # a form kept open past its key, or tampered with: said, not silent
        stale = worker_client.post("/welfare/rimborsi/nuovo/",
                                   {**form, "key": key, "receipt": SimpleUploadedFile("r.pdf", b"%PDF-1.7")})
        assert stale.status_code == 422 and "ricarica la pagina e riprova" in stale.content.decode()
    assert not RefundRequest.objects.exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = worker_client.post("/welfare/rimborsi/nuovo/",
                                  {**form, "receipt": SimpleUploadedFile("r.pdf", b"%PDF-1.7")})
    assert sent.status_code == 302
    refund = RefundRequest.objects.get()
    # The firm's admin hears of it, with the link to decide; nobody else does.
    [notice] = mail.outbox
    assert notice.to == [personas["org_admin"].email]
    assert "Richiesta di rimborso da esaminare: 50,00" in notice.subject
    assert "Retta del nido" in notice.body and f"{FIRM}/welfare/rimborsi/{refund.pk}/" in notice.body
    # The worker sees where the 50 € went while the request is examined.
    mine = worker_client.get("/welfare/il-mio-welfare/").content.decode()
    assert "250,00" in mine and "Altri 50,00\u00a0€ sono riservati per le richieste di rimborso in esame" in mine
    admin = client_as(personas["org_admin"])
    assert admin.get(f"/welfare/rimborsi/{refund.pk}/ricevuta/")["Content-Type"] == "application/pdf"
    refused = admin.post(f"{FIRM}/welfare/rimborsi/{refund.pk}/", {"decision": "reject", "reason": "  "})
    assert RefundRequest.objects.get().status == "pending"  # a rejection needs its reason
    # …said beside that refund's form, which comes back with "Respingi" still chosen.
    assert refused.status_code == 422
    page = refused.content.decode()
    assert f'id="reason-{refund.pk}-error"' in page and "Spiega perché respingi" in page
    assert f'value="reject" id="reject-{refund.pk}" checked' in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{FIRM}/welfare/rimborsi/{refund.pk}/", {"decision": "reject", "reason": "Manca il codice fiscale"})
    assert RefundRequest.objects.get().status == "rejected"
    assert "Manca il codice fiscale" in mail.outbox[-1].body
    mine = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    assert "Respinto" in mine and "Manca il codice fiscale" in mine and "300,00" in mine


def test_a_firm_has_no_provider_desk(client_as, world, personas):
    for persona in ("org_admin", "org_staff"):
        client = client_as(personas[persona])
        assert client.get(f"{FIRM}/fornitore/").status_code == 403
        assert client.get(f"{FIRM}/fornitore/rendiconto-2026-01.csv").status_code == 403


def test_absurd_years_are_not_errors(client_as, world, personas):
    admin = client_as(personas["org_admin"])
    assert admin.get(f"{FIRM}/welfare/", {"anno": "0"}).status_code == 200
    assert admin.get(f"{FIRM}/welfare/", {"anno": "99999999999"}).status_code == 200
    assert admin.get(f"{FIRM}/welfare/cedolino-2019.csv").status_code == 404
    till = client_as(personas["provider_staff"])
    assert till.get("/milano/organizzazioni/coop-test/fornitore/rendiconto-0000-05.pdf").status_code == 404


def test_the_provider_redeems_by_typed_code_and_gets_its_statement(client_as, world, personas):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    till = client_as(personas["provider_staff"])
    answer = till.post("/milano/organizzazioni/coop-test/fornitore/", {"code": order.code.lower()})
    assert answer.status_code == 302  # a reload of the page that follows does not post the code again
    assert "ora utilizzato: Doposcuola del quartiere" in till.get(answer["Location"]).content.decode()
    again = till.post("/milano/organizzazioni/coop-test/fornitore/", {"code": order.code})
    assert again.status_code == 422
    assert "già utilizzato il" in again.content.decode() and "Doposcuola del quartiere per" in again.content.decode()
    month = timezone.localdate()
    csv = till.get(f"/milano/organizzazioni/coop-test/fornitore/rendiconto-{month.year}-{month.month:02d}.csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Codice voucher;Utilizzato il;Servizio;Categoria;Importo (euro)"
    assert any(line.startswith(f"{order.code};") and line.endswith(";120,00") for line in lines)
    assert "Commissione della rete (0,00%);;;;0,00" in lines  # the rate in its label, not under "Categoria"
    # In Italian for the provider's accounts whatever the page's language, as its Italian amounts are.
    till.cookies["django_language"] = "en"
    english = till.get(f"/milano/organizzazioni/coop-test/fornitore/rendiconto-{month.year}-{month.month:02d}.csv")
    assert english.content.decode("utf-8-sig").splitlines()[0] == lines[0]
    pdf = till.get(f"/milano/organizzazioni/coop-test/fornitore/rendiconto-{month.year}-{month.month:02d}.pdf")
    assert pdf["Content-Type"] == "application/pdf"


def test_spending_report_hides_groups_under_five_and_payroll_gives_only_amounts(client_as, territory, firm, coop, personas):
    ensure_thresholds()
    make_plan(firm, amount_cents=100000)
    education = make_service(coop, category=Category.EDUCATION, price_cents=1000, title="Nido")
    care = make_service(coop, category=Category.CARE, price_cents=2000, title="Badante")
    sport = make_service(coop, category=Category.WELLBEING, price_cents=3000, title="Piscina")
    workers = [enrol(firm, n) for n in range(30, 37)]
    for w in workers[:6]:
        services.place_order(worker=w, service=education, key="e", actor=None)
    for w in workers[:5]:
        services.place_order(worker=w, service=sport, key="s", actor=None)
    services.place_order(worker=workers[6], service=care, key="c", actor=None)  # one person: must not show
    this_year = timezone.localdate().year
    assert "60,00" not in client_as(personas["org_admin"]).get(f"{FIRM}/welfare/", {"anno": this_year}).content.decode()
    Order.objects.update(tax_year=this_year - 1)  # the report covers only years that are over

    page = client_as(personas["org_admin"]).get(f"{FIRM}/welfare/").content.decode()
    report = page[page.index("Utilizzo per categoria"):]
    assert "Badante" not in page and "Piscina" not in page  # never what one person bought
    assert "150,00" in report  # sport: 5 people
    assert "20,00" not in report  # care: 1 person, hidden
    assert "60,00" not in report  # education: the smallest other group, hidden too (else total − shown = care)
    csv = client_as(personas["org_admin"]).get(f"{FIRM}/welfare/cedolino-{this_year - 1}.csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Codice fiscale;Cognome;Nome;Importo esente (euro);Importo imponibile (euro)"
    english = client_as(personas["org_admin"]).get(f"{FIRM}/welfare/cedolino-{this_year - 1}.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert english.content.decode("utf-8-sig").splitlines()[0] == lines[0]  # a payroll import maps by these
    assert f"{workers[0].tax_code};Prova;Nome30;40,00;0,00" in lines
    assert not any("Nido" in line or "Piscina" in line for line in lines)


def test_a_worker_proposes_a_provider_and_the_coordinator_invites_it(
    client_as, world, personas, django_capture_on_commit_callbacks
):
    answer = client_as(personas["worker"]).post("/milano/welfare/proponi-fornitore/", {
        "name": "Asilo Il Girotondo", "email": "info@girotondo.example.org", "category": "f_bis", "city": "Milano",
    })
    assert answer.status_code == 302
    proposal = ProviderProposal.objects.get()
    assert client_as(personas["org_admin"]).get("/milano/welfare/proponi-fornitore/").status_code == 403
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_as(personas["coordinator"]).post(f"/milano/coordinamento/welfare/proposte/{proposal.pk}/",
                                                {"decision": "invite"})
    assert ProviderProposal.objects.get().status == "invited"
    assert mail.outbox[-1].to == ["info@girotondo.example.org"] and "/milano/aderisci/" in mail.outbox[-1].body


def _propose(client, name="Asilo Il Girotondo"):
    answer = client.post("/milano/welfare/proponi-fornitore/", {
        "name": name, "email": "info@girotondo.example.org", "category": "f_bis", "city": "Milano",
    })
    assert answer.status_code == 302
    return ProviderProposal.objects.get(name=name)


def test_whoever_proposed_a_provider_hears_of_the_decision_and_follows_it_on_their_page(
    client_as, world, personas, django_capture_on_commit_callbacks
):
    worker = client_as(personas["worker"])
    proposal = _propose(worker)
    waiting = worker.get("/welfare/il-mio-welfare/").content.decode()
    assert "Le mie proposte di fornitori" in waiting and "non l'ha ancora valutata" in waiting
    personas["worker"].language = "en"
    personas["worker"].save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_as(personas["coordinator"]).post(
            f"/milano/coordinamento/welfare/proposte/{proposal.pk}/",
            {"decision": "decline", "message": "  Non ha ancora le autorizzazioni per i nidi.  "}, follow=True)
    assert "riceverà un&#x27;email" in answer.content.decode()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.message) == ("declined", "Non ha ancora le autorizzazioni per i nidi.")
    [told] = mail.outbox  # declined: nothing goes to the provider
    assert told.to == ["worker@example.org"]
    assert "Asilo Il Girotondo" in told.subject and "no invitation for now" in told.subject  # in the worker's language
    assert "Non ha ancora le autorizzazioni per i nidi." in told.body and "/welfare/il-mio-welfare/#proposte" in told.body
    audit = AuditLog.objects.get(action="welfare.provider.declined")
    assert audit.changes == {"message": "Non ha ancora le autorizzazioni per i nidi."}

    page = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    assert "Proposta valutata il" in page and "per ora nessun invito" in page and "Non ha ancora le autorizzazioni per i nidi." in page
    # Proposals are their author's: colleagues and the firm's admin do not see them.
    for other in ("org_admin", "org_staff"):
        assert "Asilo Il Girotondo" not in client_as(personas[other]).get("/welfare/il-mio-welfare/").content.decode()


def test_an_invitation_tells_the_proposer_what_happens_next(client_as, world, personas, django_capture_on_commit_callbacks):
    proposal = _propose(client_as(personas["worker"]))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_as(personas["coordinator"]).post(f"/milano/coordinamento/welfare/proposte/{proposal.pk}/",
                                                {"decision": "invite"})
    to_worker, to_provider = mail.outbox
    assert to_worker.to == ["worker@example.org"] and "compariranno nel catalogo" in to_worker.body
    assert "Messaggio del coordinamento" not in to_worker.body  # no reason given, no empty line for it
    assert to_provider.to == ["info@girotondo.example.org"]
    page = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    assert "Invito ad aderire inviato il" in page


@pytest.mark.parametrize("data", [{"decision": "maybe"}, {"decision": "decline", "message": "x" * 1001}, {}])
def test_a_decision_that_is_not_valid_changes_nothing(client_as, world, personas, data):
    proposal = _propose(client_as(personas["worker"]))
    mail.outbox.clear()
    answer = client_as(personas["coordinator"]).post(f"/milano/coordinamento/welfare/proposte/{proposal.pk}/", data,
                                                     follow=True)
    assert answer.status_code == 200
    proposal.refresh_from_db()
    assert (proposal.status, proposal.message, proposal.decided_at) == ("new", "", None)
    assert mail.outbox == [] and not AuditLog.objects.filter(action__startswith="welfare.provider.d").exists()
    text = answer.content.decode()
    assert "Scegli se invitare il fornitore o no" in text or "1000 caratteri" in text


def test_a_pooled_plan_draws_each_firm_on_its_own_share(territory, firm, personas):
    from conftest import make_organisation

    ensure_thresholds()
    small = make_organisation(territory, "Piccola Srl", size_class="micro")
    year = timezone.localdate().year
    pooled = services.create_plan(territory=territory, organisation=None, name="Rete", year=year,
                                  valid_from=date(year, 1, 1), valid_until=date(year, 12, 31), categories=["f_bis"],
                                  unused_credit="return", tiers={"": 20000}, actor=personas["coordinator"])
    for org in (firm, small):
        services.join_pooled_plan(plan=pooled, organisation=org, actor=None)
    services.fund_plan(plan=pooled, organisation=firm, amount_cents=20000, key="f", actor=None)
    enrol(firm, 50)
    with pytest.raises(services.PoolTooSmall):
        enrol(small, 51)  # the firm's money does not pay for another firm's workers


def test_joining_a_network_plan_says_what_it_commits_the_firm_to_before_the_click(client_as, territory, firm, personas):
    ensure_thresholds()
    year = timezone.localdate().year
    pooled = services.create_plan(territory=territory, organisation=None, name="Rete", year=year,
                                  valid_from=date(year, 1, 1), valid_until=date(year, 12, 31), categories=["f_bis"],
                                  unused_credit="return", tiers={"": 20000, "operai": 25000},
                                  actor=personas["coordinator"])
    client = client_as(personas["org_admin"])
    page = client.get(f"{FIRM}/welfare/").content.decode()
    offer = page.split("Piani della rete aperti alle imprese", 1)[1].split("</details>", 1)[0]
    assert '<summary>Partecipa<span class="visually-hidden"> Rete</span></summary>' in offer
    assert "tutti 200,00\u00a0€; «operai» 250,00\u00a0€" in offer and "Istruzione e cura dei figli" in offer
    assert "Finché non versi, non si muove denaro." in offer and "Conferma la partecipazione" in offer
    client.post(f"{FIRM}/welfare/piani/{pooled.pk}/partecipa/")
    assert pooled.participants.filter(organisation=firm).exists()


def test_odd_input_is_refused_not_a_server_error(client_as, world, personas):
    from django.core.exceptions import ValidationError

    from welfare.forms import cents_from_euros

    for typed in ("NaN", "Infinity", "-Infinity", "1,000", "1e999"):
        with pytest.raises(ValidationError):
            cents_from_euros(typed)
    admin = client_as(personas["org_admin"])
    with_nul = "codice_fiscale,nome,cognome,email\n" + f"{tax_code(60)},An\x00na,Neri,a@example.org\n"
    answer = admin.post(f"{FIRM}/welfare/lavoratori/importa/", {"file": SimpleUploadedFile("w.csv", with_nul.encode())})
    assert answer.status_code == 422
    huge = "codice_fiscale,nome,cognome,email\n" + "x" * 200_000 + ",a,b,c@example.org\n"
    answer = admin.post(f"{FIRM}/welfare/lavoratori/importa/", {"file": SimpleUploadedFile("w.csv", huge.encode())})
    assert answer.status_code == 422
    assert Worker.objects.count() == 1
    worker = client_as(personas["worker"])
    assert worker.get("/welfare/voucher/%00/").status_code == 404
    assert worker.get("/welfare/voucher/" + "A" * 50 + "/").status_code == 404


def test_a_lost_receipt_is_a_404(client_as, world, personas):
    refund = services.request_refund(
        worker=world["worker"], wallet=world["worker"].wallets.get(), category="f_bis", amount_cents=100,
        description="Nido", expense_date=date.today(), receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4"), key="k",
        actor=None,
    )
    refund.receipt.storage.delete(refund.receipt.name)
    assert client_as(personas["worker"]).get(f"/welfare/rimborsi/{refund.pk}/ricevuta/").status_code == 404


def test_the_coordinators_audit_log_does_not_show_what_a_worker_bought(client_as, world, personas):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=personas["worker"])
    page = client_as(personas["coordinator"]).get("/milano/coordinamento/registro/", {"action": "welfare"})
    text = page.content.decode()
    assert "welfare.plan.created" in text or "welfare.worker.enrolled" in text
    # Not in the rows, nor offered as a filter.
    assert "welfare.order.placed" not in text and order.code not in text and "Doposcuola" not in text


def test_withdrawing_the_children_declaration_warns_when_fringe_becomes_taxable(client_as, territory, firm, coop, personas):
    ensure_thresholds()
    make_plan(firm, amount_cents=150000, categories=["fringe"])
    worker = enrol(firm, 70, user=personas["worker"])
    services.declare_children(worker=worker, has_dependent_children=True, actor=None)
    worker.refresh_from_db()
    services.place_order(worker=worker, service=make_service(coop, category="fringe", price_cents=150000), key="k",
                         actor=None)
    client = client_as(personas["worker"])
    page = client.post(f"/welfare/il-mio-welfare/{worker.pk}/figli/", {f"w{worker.pk}-has_dependent_children": ""},
                       follow=True)
    assert "diventano tutti imponibili" in page.content.decode()
    worker.refresh_from_db()
    assert not worker.has_dependent_children
    # And the fringe box itself says so, on this page and every later visit, not only the flash message.
    box = client.get("/welfare/il-mio-welfare/").content.decode()
    assert "più della soglia" in box and "sono quindi tutti imponibili (1.500,00\u00a0€)" in box
    assert "ti restano" not in box
    # The plan carries unused credit over (the factory's default): the card says where it goes.
    assert ("Quel che non usi entro la scadenza passa al piano successivo della tua impresa, se ne hai uno, "
            "altrimenti torna all&#x27;impresa") in box or "se ne hai uno, altrimenti torna all'impresa" in box


def test_a_used_voucher_counts_the_time_it_gives_back(client_as, world, personas, coop):
    sitter = make_service(coop, title="Baby sitting", category=Category.EDUCATION, price_cents=1000, minutes_saved=90)
    order = services.place_order(worker=world["worker"], service=sitter, key="k", actor=None)
    page = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    assert "Tempo ritrovato" not in page  # bought, not used yet
    services.redeem_voucher(code=order.code, provider=coop, actor=None)
    page = client_as(personas["worker"]).get("/welfare/il-mio-welfare/").content.decode()
    assert "90 minuti" in page


def test_the_coordinator_sees_and_pays_what_providers_are_owed(client_as, world, personas, coop):
    from datetime import timedelta

    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    services.redeem_voucher(code=order.code, provider=coop, actor=None)
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    Order.objects.update(redeemed_at=timezone.now().replace(year=last_month.year, month=last_month.month, day=10))
    coordinator = client_as(personas["coordinator"])
    page = coordinator.get("/milano/coordinamento/welfare/").content.decode()
    assert "Coop Test" in page and "120,00" in page
    url = f"/milano/coordinamento/welfare/pagamenti/coop-test/{last_month.year}-{last_month.month}/"
    assert client_as(personas["provider_staff"]).post(url).status_code == 403
    coordinator = client_as(personas["coordinator"])  # one test client: sign the coordinator in again
    coordinator.post(url)
    assert "Nessun pagamento in sospeso" in coordinator.get("/milano/coordinamento/welfare/").content.decode()
    pdf = client_as(personas["provider_staff"]).get(
        f"/milano/organizzazioni/coop-test/fornitore/rendiconto-{last_month.year}-{last_month.month:02d}.pdf")
    assert pdf.status_code == 200


def test_a_provider_cancelling_a_voucher_says_why_and_the_worker_is_mailed(
    client_as, world, personas, django_capture_on_commit_callbacks
):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    wallet = world["worker"].wallets.get().account
    wallet.refresh_from_db()
    before = wallet.balance_cents
    url = f"/welfare/voucher/{order.code}/"
    till = client_as(personas["provider_staff"])
    assert "Motivo (lo leggerà il lavoratore)" in till.get(url).content.decode()
    mail.outbox.clear()
    silent = till.post(f"{url}annulla/", {"reason": "  "})
    assert silent.status_code == 422 and "Spiega perché annulli il voucher" in silent.content.decode()
    order.refresh_from_db()
    assert order.status == "issued" and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        done = till.post(f"{url}annulla/", {"reason": "L'educatrice è malata: il corso di marzo non parte."}, follow=True)
    assert "che riceve il motivo per email" in done.content.decode()
    order.refresh_from_db()
    wallet.refresh_from_db()
    assert order.status == "cancelled" and wallet.balance_cents == before + order.amount_cents
    [message] = mail.outbox
    assert message.to == [world["worker"].email] and "Voucher annullato dal fornitore" in message.subject
    assert "il corso di marzo non parte" in message.body and order.code in message.body
    page = client_as(personas["worker"]).get(url).content.decode()
    assert "Annullato da Coop Test" in page and "il corso di marzo non parte" in page


def test_a_worker_cancels_their_own_voucher_without_a_reason_or_a_mail(
    client_as, world, personas, django_capture_on_commit_callbacks
):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_as(personas["worker"]).post(f"/welfare/voucher/{order.code}/annulla/", follow=True)
    assert "Acquisto annullato" in answer.content.decode() and "Annullato da" not in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled" and mail.outbox == []


def test_the_voucher_page_speaks_to_whoever_reads_it_and_a_cancelled_one_cannot_be_shown(client_as, world, personas):
    order = services.place_order(worker=world["worker"], service=world["service"], key="k", actor=None)
    url = f"/welfare/voucher/{order.code}/"
    worker_page = client_as(personas["worker"]).get(url).content.decode()
    assert "detta il codice al fornitore" in worker_page and "Torna al mio welfare" in worker_page
    assert "torneranno nel tuo borsellino" in worker_page  # the cancellation asks to be confirmed
    # Where and how to use it: the service's page, how it is delivered, the provider's contacts.
    assert f'href="{world["service"].get_absolute_url()}"' in worker_page and "Presso il fornitore" in worker_page
    type(world["service"].provider).objects.filter(pk=world["service"].provider_id).update(phone="02 1234 567")
    assert 'href="tel:021234567"' in client_as(personas["worker"]).get(url).content.decode()
    till_page = client_as(personas["provider_staff"]).get(url).content.decode()
    assert "detta il codice al fornitore" not in till_page and "Torna allo sportello fornitore" in till_page
    assert f"torneranno nel borsellino di {world['worker']}" in till_page

    services.cancel_order(order=order, actor=None)
    cancelled = client_as(personas["worker"]).get(url).content.decode()
    assert "Voucher annullato" in cancelled
    main = cancelled[cancelled.index("<main"):]
    assert "<svg" not in main and "Scarica il PDF" not in main and "Conferma l'annullamento" not in main
    pdf_text = client_as(personas["worker"]).get(f"{url}pdf/")
    assert pdf_text.status_code == 200  # the record stays printable, marked cancelled, without a QR to scan


def test_a_worker_whose_category_the_plan_has_no_amount_for_is_pointed_out_and_can_be_corrected(
    client_as, territory, firm, personas, django_capture_on_commit_callbacks
):
    ensure_thresholds()
    plan = make_plan(firm, tiers={"impiegati": 50000, "operai": 30050}, fund_cents=500000, name="Piano per categorie")
    admin = client_as(personas["org_admin"])
    enrolled = admin.post(f"{FIRM}/welfare/lavoratori/nuovo/", {
        "first_name": "Marco", "last_name": "Ferrari", "tax_code": tax_code(50), "email": "marco@example.org",
        "category": "dirigenti"}, follow=True).content.decode()
    assert "Iscrizione di Marco Ferrari registrata" in enrolled
    assert "Il piano «Piano per categorie» non prevede un importo per la categoria «dirigenti»: 1 lavoratore non riceve credito" in enrolled
    rows = "codice_fiscale,nome,cognome,email,categoria\n" + "\n".join([
        f"{tax_code(51)},Ugo,Riva,ugo@example.org,Impiegati",  # case aside, the plan's category
        f"{tax_code(52)},Ida,Neri,ida@example.org,",
        f"{tax_code(53)},Eva,Sala,eva@example.org,impiegat",
    ])
    imported = import_file(admin, rows, django_capture_on_commit_callbacks)
    text = imported.content.decode()
    assert "3 lavoratori iscritti" in text
    assert "non prevede un importo per la categoria «impiegat», chi non ha una categoria: 2 lavoratori non ricevono credito" in text
    # The plans table keeps saying it.
    desk = admin.get(f"{FIRM}/welfare/").content.decode()
    assert "Nessun importo per:" in desk and "«dirigenti» (1)" in desk and "«impiegat» (1)" in desk

    # Correcting the typo credits Eva at once, with the audit row; a second worker's credit stays as it was.
    eva = Worker.objects.get(email="eva@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(f"{FIRM}/welfare/lavoratori/{eva.pk}/categoria/", {"category": " impiegati "}, follow=True)
    assert [m.to[0] for m in mail.outbox if m.subject.startswith("Nuovo credito welfare")] == ["eva@example.org"]
    assert "Categoria di Eva Sala: impiegati." in answer.content.decode()
    assert "Credito assegnato da 1 piano." in answer.content.decode()
    eva.refresh_from_db()
    assert eva.category == "impiegati" and eva.wallets.get(plan=plan).account.balance_cents == 50000
    entry = AuditLog.objects.get(action="welfare.worker.category_changed")
    assert entry.changes["category"] == ["impiegat", "impiegati"]
    ugo = Worker.objects.get(email="ugo@example.org")
    admin.post(f"{FIRM}/welfare/lavoratori/{ugo.pk}/categoria/", {"category": "operai"})
    assert ugo.wallets.get(plan=plan).account.balance_cents == 50000  # credit given is never taken back
    assert Worker.objects.get(pk=ugo.pk).category == "operai"

    # Bad input changes nothing; another firm's worker is not found.
    assert admin.post(f"{FIRM}/welfare/lavoratori/{eva.pk}/categoria/", {"category": "x" * 61}).status_code == 302
    assert Worker.objects.get(pk=eva.pk).category == "impiegati"
    other = make_organisation(territory, "Altra Srl")
    stranger = enrol(other, 60)
    assert admin.post(f"{FIRM}/welfare/lavoratori/{stranger.pk}/categoria/", {"category": "a"}).status_code == 404
    assert client_as(personas["worker"]).post(
        f"{FIRM}/welfare/lavoratori/{eva.pk}/categoria/", {"category": "a"}).status_code == 403


def test_the_desk_offers_each_years_report_and_payroll_file(client_as, territory, firm, personas):
    ensure_thresholds()
    this_year = timezone.localdate().year
    make_plan(firm, name="Piano vecchio", fund_cents=0,
              valid_from=date(this_year - 2, 1, 1), valid_until=date(this_year - 2, 12, 31))
    make_plan(firm)
    admin = client_as(personas["org_admin"])
    desk = admin.get(f"{FIRM}/welfare/").content.decode()
    assert f'<option value="{this_year - 1}" selected>' in desk and f'<option value="{this_year - 2}">' in desk
    assert f'<option value="{this_year}"' not in desk  # a year not over yet has no report
    for year in (this_year - 1, this_year - 2):
        assert f"cedolino-{year}.csv" in desk
        assert admin.get(f"{FIRM}/welfare/cedolino-{year}.csv").status_code == 200
    # Nor a payroll file: one worker's total, from one day to the next, would say what they bought.
    assert f"cedolino-{this_year}.csv" not in desk
    assert admin.get(f"{FIRM}/welfare/cedolino-{this_year}.csv").status_code == 404
    assert f"Il file del {this_year} si scarica dal 1° gennaio {this_year + 1}" in desk
    older = admin.get(f"{FIRM}/welfare/", {"anno": this_year - 2}).content.decode()
    assert f"Utilizzo per categoria nel {this_year - 2}" in older


def test_a_plan_made_by_mistake_can_be_deleted_until_money_moves(client_as, territory, firm, personas):
    ensure_thresholds()
    mistake = make_plan(firm, name="Piano sbagliato", tiers={"Mario Rossi": 50000}, fund_cents=0)
    funded = make_plan(firm, name="Piano vero")
    admin = client_as(personas["org_admin"])
    desk = admin.get(f"{FIRM}/welfare/").content.decode()
    assert f"/welfare/piani/{mistake.pk}/elimina/" in desk and f"/welfare/piani/{funded.pk}/elimina/" not in desk

    asked = admin.get(f"{FIRM}/welfare/piani/{mistake.pk}/elimina/")
    assert asked.status_code == 200 and "Sì, elimina il piano" in asked.content.decode()
    assert Plan.objects.filter(pk=mistake.pk).exists()  # opening the page deletes nothing
    done = admin.post(f"{FIRM}/welfare/piani/{mistake.pk}/elimina/", follow=True)
    assert "Piano «Piano sbagliato» eliminato." in done.content.decode()
    assert not Plan.objects.filter(pk=mistake.pk).exists()
    entry = AuditLog.objects.get(action="welfare.plan.deleted")
    assert entry.actor == personas["org_admin"] and entry.changes["tiers"] == {"Mario Rossi": 50000}

    refused = admin.get(f"{FIRM}/welfare/piani/{funded.pk}/elimina/")
    assert refused.status_code == 409 and "non si può eliminare" in refused.content.decode()
    admin.post(f"{FIRM}/welfare/piani/{funded.pk}/elimina/")
    assert Plan.objects.filter(pk=funded.pk).exists()
    other = make_plan(make_organisation(territory, "Altra Srl"), name="Piano altrui", fund_cents=0)
    assert admin.post(f"{FIRM}/welfare/piani/{other.pk}/elimina/").status_code == 404
    assert Plan.objects.filter(pk=other.pk).exists()


def test_a_plan_amount_for_a_named_worker_is_refused(client_as, territory, firm, personas):
    ensure_thresholds()
    make_plan(firm)
    services.enrol_worker(organisation=firm, actor=None, data=services.WorkerData(
        tax_code=tax_code(70), first_name="Mario", last_name="Rossi", email="mario@example.org"))
    admin = client_as(personas["org_admin"])
    form = {"name": "Piano sbagliato", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
            "categories": ["f"], "unused_credit": "carry_over"}
    for line in ("Mario Rossi: 500", "rossi  mario: 500"):
        refused = admin.post(f"{FIRM}/welfare/piani/nuovo/", {**form, "tiers": f"impiegati: 300\n{line}"})
        assert refused.status_code == 422 and "è il nome di un lavoratore" in refused.content.decode()
    assert not Plan.objects.filter(name="Piano sbagliato").exists()
    assert admin.post(f"{FIRM}/welfare/piani/nuovo/", {**form, "tiers": "impiegati: 300\nquadri: 500"}).status_code == 302


def test_a_provider_publishes_a_service_for_the_municipi_it_serves(client_as, world, personas, territory, coop):
    client = client_as(personas["provider_staff"])
    url = f"/milano/organizzazioni/{coop.slug}/fornitore/servizi/nuovo/"
    two, five = (str(territory.municipi.get(number=n).pk) for n in (2, 5))
    data = {"title": "Assistenza domiciliare", "description": "A casa, anche la sera.", "category": "f_ter",
            "slug": "assistenza-domiciliare", "delivery": "at_home", "price": "45,00", "municipi": [two, five], "is_published": "on"}
    for tampered in (str(2**70), "-" + str(2**70), "due"):
        refused = client.post(url, {**data, "municipi": [two, tampered]})
        assert refused.status_code == 422, tampered
        assert 'id="municipi-error"' in refused.content.decode()
    assert not coop.services.filter(title="Assistenza domiciliare").exists()
    saved = client.post(url, data)
    assert saved.status_code == 302
    service = coop.services.get(title="Assistenza domiciliare")
    assert {m.number for m in service.municipi.all()} == {2, 5}
    # The identifier may be left empty: it comes from the title, and never clashes with another one.
    again = client.post(url, {**data, "slug": ""})
    assert again.status_code == 302
    assert set(coop.services.filter(title="Assistenza domiciliare").values_list("slug", flat=True)) == {
        "assistenza-domiciliare", "assistenza-domiciliare-2"}


def test_the_admin_refuses_a_municipio_id_no_row_can_have(client_as, world, territory):
    staff = make_user("staff@example.org", with_totp=True)
    staff.is_staff = staff.is_superuser = True
    staff.save()
    service = world["service"]
    url = f"/admin/welfare/service/{service.pk}/change/"
    client = client_as(staff)
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": service.title, "municipi": [str(2**70)]})
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not service.municipi.exists()


def test_the_coordinator_sees_the_proposals_to_assess_first_with_their_date(client_as, world, personas):
    worker = client_as(personas["worker"])
    first = _propose(worker, name="Ludoteca Uno")
    _propose(worker, name="Palestra Due")
    coordinator = client_as(personas["coordinator"])
    coordinator.post(f"/milano/coordinamento/welfare/proposte/{first.pk}/", {"decision": "decline"})
    ProviderProposal.objects.filter(name="Palestra Due").update(website="https://palestra.example.org")
    page = coordinator.get("/milano/coordinamento/welfare/").content.decode()
    assert page.index("Palestra Due") < page.index("Ludoteca Uno")  # still to assess, so first
    assert "Proposto il " in page
    assert 'href="https://palestra.example.org" rel="nofollow noopener ugc"' in page  # typed by a worker


@pytest.mark.parametrize(("today", "year"), [(date(2026, 12, 6), 2027), (date(2026, 11, 30), 2026), (date(2027, 1, 2), 2027)])
def test_a_new_plan_proposes_the_year_it_is_most_likely_for(client_as, world, personas, monkeypatch, today, year):
    monkeypatch.setattr(timezone, "localdate", lambda *args: today)
    page = client_as(personas["org_admin"]).get(f"{FIRM}/welfare/piani/nuovo/").content.decode()
    assert f'value="{year}-01-01"' in page and f'value="{year}-12-31"' in page


def test_the_coordinator_creating_a_network_plan_is_told_what_comes_next(client_as, world, personas):
    base = {"name": "Welfare di rete", "valid_from": "2027-01-01", "valid_until": "2027-12-31",
            "categories": ["f_bis", "f_ter"], "unused_credit": "return", "tiers": "300"}
    done = client_as(personas["coordinator"]).post("/milano/coordinamento/welfare/piani/nuovo/", base, follow=True)
    page = done.content.decode()
    assert "Piano di rete creato: le imprese della rete ora possono aderire" in page
    assert "versa il fondo, poi iscrivi i lavoratori" not in page


def test_the_service_page_says_before_the_click_when_the_fringe_threshold_would_be_crossed(
        client_as, territory, firm, coop, personas):
    ensure_thresholds()
    make_plan(firm, amount_cents=300000, categories=["fringe"])
    worker = enrol(firm, 71, user=personas["worker"])
    services.place_order(worker=worker, service=make_service(coop, category="fringe", price_cents=5000), key="k",
                         actor=None)
    too_much = make_service(coop, category="fringe", price_cents=100000)  # 50 € spent: 1,000 € would cross 1,000 €
    within = make_service(coop, category="fringe", price_cents=95000)
    client = client_as(personas["worker"])

    refused = client.get(too_much.get_absolute_url()).content.decode()
    assert "Acquista per" not in refused
    assert "supererebbe la soglia esente dei fringe benefit (1.000,00\u00a0€ nel" in refused
    assert "ti restano 950,00\u00a0€" in refused
    assert "Acquista per 950,00" in client.get(within.get_absolute_url()).content.decode()


def test_the_refund_form_offers_what_each_plan_refunds(client_as, territory, firm, personas):
    ensure_thresholds()
    make_plan(firm, name="Premio di risultato", categories=["d_bis", "fringe"])
    make_plan(firm, name="Famiglia", categories=["f_bis", "f"])
    worker = enrol(firm, 72, user=personas["worker"])
    transport = worker.wallets.get(plan__name="Premio di risultato")
    client = client_as(personas["worker"])

    page = client.get("/welfare/rimborsi/nuovo/").content.decode()
    assert "Premio di risultato (d-bis)" in page and "Famiglia (f-bis)" in page
    assert 'value="f_ter"' not in page  # no plan refunds it: not offered
    refused = client.post("/welfare/rimborsi/nuovo/", {
        "key": "k-1", "wallet": transport.pk, "category": "f_bis", "amount": "50", "description": "Retta del nido",
        "expense_date": date.today().isoformat(), "receipt": SimpleUploadedFile("r.pdf", b"%PDF-1.7")})
    assert refused.status_code == 422
    assert refused.context["form"].errors["category"] == [
        "Il piano scelto non rimborsa questa categoria: scegline un'altra o un altro piano."]
    assert "Allega di nuovo la ricevuta" in refused.content.decode()  # the browser drops the chosen file
    assert not RefundRequest.objects.exists()
