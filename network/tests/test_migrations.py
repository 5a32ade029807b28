"""Data migrations, run against rows written before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("network", "0006_joinrequest_language")]
AFTER = [("network", "0007_join_request_one_pending")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_doubled_pending_requests_are_closed_with_an_audit_row_before_the_constraint():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    territory = old.get_model("core", "Territory").objects.create(
        slug="lodi", name="Lodi", network_name="Rete Lodi", center_latitude="45.31", center_longitude="9.50")
    JoinRequest = old.get_model("network", "JoinRequest")
    common = {"territory": territory, "kind": "firm", "requested_role": "member_firm", "contact_name": "Anna",
              "email": "anna@example.org", "privacy_acknowledged_at": timezone.now()}
    first = JoinRequest.objects.create(name="Forno", tax_code="01234560157", **common)
    double = JoinRequest.objects.create(name="Forno (di nuovo)", tax_code="01234560157", **common)
    other = JoinRequest.objects.create(name="Altro", tax_code="01199250158", **common)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    statuses = dict(new.get_model("network", "JoinRequest").objects.values_list("pk", "status"))
    assert statuses == {first.pk: "pending", double.pk: "rejected", other.pk: "pending"}
    entry = new.get_model("core", "AuditLog").objects.get(action="join_request.rejected")
    assert entry.object_id == str(double.pk) and "Richiesta doppia" in entry.changes["reason"]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_stored_search_text_written_before_folding_is_refolded(territory):
    from conftest import make_organisation
    from core.search import refold_search_text
    from network.models import Organisation

    university = make_organisation(territory, "Università di Milano-Bicocca")
    Organisation.objects.filter(pk=university.pk).update(search_text="università di milano-bicocca")  # as stored before
    refold_search_text(Organisation)
    assert Organisation.objects.get(pk=university.pk).search_text == "universita di milano-bicocca"
    assert list(Organisation.objects.search("universita")) == [university]
