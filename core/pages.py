"""The static pages every deployment must have: the footer links to them.

They live in the database (editable in the admin); these texts are the defaults, created by
migration 0002 and served as they are whenever the row is missing, so a mandatory link never
leads to a 404.
"""

from .models import Page

PAGES = [
    {
        "slug": "privacy",
        "title": "Informativa sul trattamento dei dati personali",
        "title_en": "Privacy notice",
        "body": """Questa informativa spiega come la piattaforma tratta i dati personali, ai sensi degli articoli 13 e 14 del Regolamento (UE) 2016/679 (GDPR).

## Titolare del trattamento
Il titolare è l'ente capofila della rete territoriale che gestisce questa installazione (per Milano, il Comune di Milano). I dati di contatto del titolare e del responsabile della protezione dei dati sono indicati nel piè di pagina e sul sito istituzionale dell'ente.

## Quali dati trattiamo e perché
- **Richieste di adesione alla rete**: dati dell'organizzazione e del referente (nome, email, telefono), per valutare la richiesta e rispondere. Base giuridica: esecuzione di misure precontrattuali e compito di interesse pubblico dell'ente.
- **Account**: email e nome di chi accede all'area riservata, per gestire l'accesso in sicurezza.
- **Iscrizioni agli eventi**: nome, email, organizzazione, ruolo, le risposte alle domande dell'evento e le esigenze di accessibilità che scegli di indicare (usate solo per organizzare l'accoglienza), per gestire posti, lista d'attesa, tavoli di lavoro e ingressi. Newsletter e fotografie solo con un consenso separato, che puoi non dare.
- **Welfare aziendale**: per i lavoratori iscritti dalla propria impresa, nome, codice fiscale, email, categoria e la dichiarazione dei figli a carico; il credito, gli acquisti e le richieste di rimborso con le ricevute, per erogare i servizi e applicare le regole fiscali (art. 51 TUIR). L'impresa vede solo totali per categoria di gruppi di almeno 5 persone e, per la busta paga, gli importi esenti e imponibili di ciascuno: mai che cosa ha acquistato una persona. Il fornitore vede solo i propri voucher.
- **Copie dei messaggi email**: ogni messaggio inviato si può leggere anche come pagina web, dall'indirizzo che contiene.
- **Registro delle attività**: chi ha modificato cosa e quando, per garantire la correttezza e la sicurezza del servizio.

Non usiamo i dati per finalità diverse, non li vendiamo e non li trasferiamo fuori dall'Unione europea.

## Per quanto tempo
Le richieste di adesione non accolte sono cancellate 24 mesi dopo la decisione; quelle accolte diventano la scheda dell'organizzazione finché resta nella rete. Gli account restano attivi finché la persona ha un ruolo nella rete.
Le iscrizioni a un evento sono rese anonime al termine del periodo indicato nel modulo dell'evento (di norma 180 giorni dopo l'evento), insieme alle copie dei messaggi che le riguardano; puoi cancellarle prima dal link presente in ogni messaggio.
I movimenti del welfare, gli acquisti e le ricevute sono conservati per il tempo richiesto dagli obblighi contabili e fiscali (10 anni, art. 2220 del Codice civile).
Le copie web dei messaggi sono cancellate 90 giorni dopo l'invio.

## I tuoi diritti
Puoi chiedere l'accesso, la rettifica, la cancellazione o la limitazione dei tuoi dati, opporti al trattamento e proporre reclamo al Garante per la protezione dei dati personali (www.garanteprivacy.it).""",
        "body_en": """This notice explains how the platform processes personal data under Articles 13 and 14 of Regulation (EU) 2016/679 (GDPR).

## Controller
The controller is the lead body of the territorial network that runs this installation (for Milan, the Comune di Milano). Contact details of the controller and of its data protection officer are in the footer and on the body's institutional website.

## What we process and why
- **Applications to join the network**: organisation and contact person data (name, email, phone), to assess the application and reply.
- **Accounts**: email and name of people who sign in, to manage access securely.
- **Event registrations**: name, email, organisation, role, the answers to the event's questions and the accessibility needs you choose to state (used only to arrange your visit), to manage seats, the waiting list, working tables and check-in. Newsletter and photographs only with a separate consent, which you may withhold.
- **Corporate welfare**: for workers enrolled by their employer, name, tax code, email, category and the declaration of dependent children; the credit, purchases and refund requests with their receipts, to deliver the services and apply the tax rules (art. 51 TUIR). The employer sees only totals per category for groups of at least 5 people and, for the payroll, each person's exempt and taxable amounts: never what a person bought. A provider sees only its own vouchers.
- **Copies of emails**: every message sent can also be read as a web page, at the address it contains.
- **Activity log**: who changed what and when, to keep the service correct and secure.

## How long
Rejected applications are deleted 24 months after the decision; approved ones become the organisation's profile while it stays in the network. Accounts stay active while the person has a role in the network.
Event registrations are anonymised at the end of the period stated on the event's form (normally 180 days after the event), together with the copies of the messages about them; you can delete them earlier from the link in every message.
Welfare movements, purchases and receipts are kept for as long as accounting and tax obligations require (10 years, art. 2220 of the Italian Civil Code).
Web copies of messages are deleted 90 days after they were sent.

## Your rights
You may ask for access, rectification, erasure or restriction, object to processing, and complain to the Italian Data Protection Authority (www.garanteprivacy.it).""",
    },
    {
        "slug": "accessibilita",
        "title": "Dichiarazione di accessibilità",
        "title_en": "Accessibility statement",
        "body": """La piattaforma si impegna a rendere il proprio sito accessibile, conformemente alla Legge 9 gennaio 2004, n. 4 e alle Linee guida AgID sull'accessibilità degli strumenti informatici, che rimandano alla norma UNI EN 301549 e alle WCAG 2.1 livello AA.

## Stato di conformità
Le pagine pubbliche sono verificate automaticamente con axe a ogni modifica del codice e costruite con il kit di design Bootstrap Italia. La mappa delle organizzazioni ha un'alternativa testuale: l'elenco filtrabile nella stessa pagina.

## Segnalazioni
Se trovi un contenuto non accessibile, scrivi al coordinamento della rete all'indirizzo indicato nel piè di pagina: risponderemo entro 30 giorni. In caso di risposta insoddisfacente puoi rivolgerti al Difensore civico per il digitale presso AgID.""",
        "body_en": """The platform is committed to making its website accessible, in line with Italian Law 4/2004 and AgID's accessibility guidelines (EN 301 549, WCAG 2.1 level AA).

## Compliance
Public pages are checked automatically with axe on every code change and built with the Bootstrap Italia design kit. The members map has a text alternative: the filterable list on the same page.

## Feedback
If you find content that is not accessible, write to the network's coordinators at the address in the footer: we answer within 30 days.""",
    },
    {
        "slug": "note-legali",
        "title": "Note legali",
        "title_en": "Legal notes",
        "body": """## Licenza dei contenuti
Salvo dove indicato diversamente, i testi e i dati pubblicati su questo sito sono rilasciati con licenza [Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/deed.it): puoi riutilizzarli citando la fonte.

I loghi delle organizzazioni restano di proprietà dei rispettivi titolari.

## Software
La piattaforma è software libero: il codice sorgente è pubblicato con licenza AGPL-3.0 o successiva, perché altri territori possano riusarla per la propria rete.

## Responsabilità
Le schede delle organizzazioni sono compilate dalle organizzazioni stesse e verificate dal coordinamento della rete.""",
        "body_en": """## Content licence
Unless stated otherwise, texts and data on this site are released under the [Creative Commons Attribution 4.0 International licence (CC BY 4.0)](https://creativecommons.org/licenses/by/4.0/): you may reuse them with attribution.

Organisation logos belong to their owners.

## Software
The platform is free software, published under AGPL-3.0-or-later, so that other territories can run it for their own network.""",
    },
]



def get_page(slug: str) -> Page | None:
    page = Page.objects.filter(slug=slug).first()
    if page is None:
        data = next((d for d in PAGES if d["slug"] == slug), None)
        page = Page(**data) if data else None
    return page
