"""The benchmark's data generator keeps up with the models.

bench/generate.py writes rows with COPY and plain INSERTs, column by column, to load 100,000 workers
in seconds; a new NOT NULL column it does not know about breaks `make bench` on a fresh database
while every other test passes. This runs it at a tiny scale on the test database.
"""

import sys
from pathlib import Path

import pytest
from django.core.management import call_command

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import generate
    import welfare_data

    # A fiftieth of S: tens of organisations and a few hundred workers.
    monkeypatch.setitem(generate.SCALES, "T", 0.002)
    monkeypatch.setitem(welfare_data.SCALES, "T", 0.002)
    return generate, welfare_data


@pytest.mark.django_db(transaction=True)
def test_generated_data_is_usable(bench_modules):
    generate, welfare_data = bench_modules
    counts = generate.Generator("T").run()
    counts.update(welfare_data.generate("T"))

    from accounts.models import User
    from network.models import Organisation
    from welfare.models import Wallet

    assert counts["workers"] == User.objects.count() > 100
    assert counts["organisations"] == Organisation.objects.count() > 10
    assert counts["wallets"] == Wallet.objects.count() > 0
    assert Organisation.objects.filter(search_text="").count() == 0
    # The ledger it writes is one the proof accepts.
    call_command("verify_ledger", stdout=sys.stdout)
