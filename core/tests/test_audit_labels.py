"""The audit log reads as people say things: moments in the territory's time, yes/no in words, a long
text as "changed" rather than a "yes"."""

from django.utils import translation

from core.audit_labels import describe_changes
from events.models import Event
from network.models import Article


def test_a_moment_kept_as_text_is_shown_in_local_time():
    # What events/services.py keeps for a moved event: str() of the aware UTC datetimes.
    changes = {"starts_at": ["2026-11-28 08:30:00+00:00", "2026-11-28 09:30:00+00:00"]}
    with translation.override("it"):
        [(label, text)] = describe_changes(changes, model=Event)
    assert text == "28/11/2026 09:30 → 28/11/2026 10:30"  # Rome is an hour ahead in November


def test_an_unreadable_moment_is_shown_as_it_was_kept():
    with translation.override("it"):
        assert describe_changes({"published_at": [None, "domani"]})[0][1] == "— → domani"


def test_a_changed_long_text_says_changed_and_a_boolean_says_yes_or_no():
    with translation.override("it"):
        described = dict(describe_changes({"body": True, "is_published": [False, True]}, model=Article))
    assert described["testo (Markdown)"] == "modificato"
    assert described["is published"] == "no → sì"
    with translation.override("en"):
        assert describe_changes({"body": True}, model=Article)[0][1] == "changed"


def test_a_list_of_two_is_a_list_and_a_pair_of_lists_reads_before_and_after():
    with translation.override("it"):
        described = dict(describe_changes({
            "categories": ["f_bis", "f_ter"],
            "workingtable_added": ["Orari flessibili", "Cura dei figli"],
            "organisers": [[], ["Comune di Milano", "Piano C"]],
        }, model=Event))
    assert described["categorie ammesse"] == "f-bis, f-ter"  # it read "f_bis → f_ter"
    assert described["tavoli aggiunti"] == "Orari flessibili, Cura dei figli"
    assert described["organizzatori"] == "— → Comune di Milano, Piano C"  # it read "—, ['Comune di Milano', …]"
