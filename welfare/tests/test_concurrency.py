"""The ledger under real concurrency, on SQLite and PostgreSQL: no overdraft, no double redemption."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from welfare import ledger, services
from welfare.models import Order

from .factories import enrol, ensure_thresholds, make_plan, make_provider, make_service

concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _at_once(work, items, workers=20):
    barrier = threading.Barrier(min(workers, len(items)))
    errors = []

    def run(item):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        try:
            return work(item)
        except Exception as exc:  # collected, asserted on by the test
            errors.append(exc)
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items)), errors


@concurrent
def test_100_concurrent_purchases_on_a_wallet_that_affords_10(territory, firm):
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=10 * 2500)
    worker = enrol(firm, 1)
    service = make_service(provider, price_cents=2500)

    def buy(n):
        return services.place_order(worker=worker, service=service, key=f"key-{n}", actor=None)

    results, errors = _at_once(buy, range(100))

    placed = [r for r in results if isinstance(r, Order)]
    refused = [e for e in errors if isinstance(e, services.InsufficientCredit)]
    assert len(placed) == 10 and len(refused) == 90, errors[:3]
    assert Order.objects.count() == 10
    assert worker.wallets.get().account.balance_cents == 0
    assert ledger.verify() == []


@concurrent
def test_the_same_key_sent_many_times_at_once_buys_once(territory, firm):
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=100000)
    worker = enrol(firm, 1)
    service = make_service(provider, price_cents=2500)

    results, errors = _at_once(lambda _n: services.place_order(worker=worker, service=service, key="retry", actor=None),
                               range(12))

    assert errors == []
    assert {r.pk for r in results} == {Order.objects.get().pk}
    assert worker.wallets.get().account.balance_cents == 100000 - 2500
    assert ledger.verify() == []


@concurrent
def test_two_staff_scanning_one_voucher_at_once_redeem_it_once(territory, firm):
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=100000)
    worker = enrol(firm, 1)
    order = services.place_order(worker=worker, service=make_service(provider), key="k", actor=None)

    results, errors = _at_once(lambda _n: services.redeem_voucher(code=order.code, provider=provider, actor=None), range(8))

    assert sum(isinstance(r, Order) for r in results) == 1
    assert len(errors) == 7 and all(isinstance(e, services.AlreadyRedeemed) for e in errors)


@concurrent
def test_fringe_purchases_from_two_plans_at_once_never_cross_the_threshold(territory, firm):
    # Two wallets, so the wallet balance alone would not stop the second purchase: the worker lock does.
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=80000, name="Piano A", categories=["fringe"])
    make_plan(firm, amount_cents=80000, name="Piano B", categories=["fringe"])
    worker = enrol(firm, 1)
    service = make_service(provider, category="fringe", price_cents=60000)

    results, errors = _at_once(lambda n: services.place_order(worker=worker, service=service, key=f"k{n}", actor=None),
                               range(10))

    assert sum(isinstance(r, Order) for r in results) == 1  # 2 × €600 would cross the €1,000 threshold
    assert all(isinstance(e, services.ThresholdExceeded) for e in errors)
    assert ledger.verify() == []


@concurrent
def test_cancelling_and_redeeming_one_voucher_at_once_leaves_one_outcome(territory, firm):
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=100000)
    worker = enrol(firm, 1)
    service = make_service(provider, price_cents=1000)
    orders = [services.place_order(worker=worker, service=service, key=f"k{n}", actor=None) for n in range(10)]

    def act(item):
        kind, order = item
        if kind == "cancel":
            return services.cancel_order(order=order, actor=None)
        return services.redeem_voucher(code=order.code, provider=provider, actor=None)

    work = [(kind, order) for order in orders for kind in ("cancel", "redeem")]
    results, errors = _at_once(act, work)

    assert all(isinstance(e, services.AlreadyRedeemed | services.VoucherCancelled) for e in errors), errors[:3]
    for order in Order.objects.all():
        assert (order.status == "cancelled") == (order.redeemed_at is None)
    cancelled = Order.objects.filter(status="cancelled").count()
    assert worker.wallets.get().account.balance_cents == 100000 - 1000 * (10 - cancelled)
    assert ledger.payable_account(provider).balance_cents == 1000 * (10 - cancelled)
    assert ledger.verify() == []


@concurrent
def test_a_payment_and_a_deletion_of_one_plan_at_once_never_both_happen(territory, firm):
    # Both take the participant's row first: one waits, then sees what the other did.
    from welfare.models import Plan, Transfer

    for n in range(10):
        plan = make_plan(firm, name=f"Piano conteso {n}", fund_cents=0)

        def act(what, plan=plan, n=n):
            if what == "fund":
                services.fund_plan(plan=plan, organisation=firm, amount_cents=1000, key=f"race-{n}", actor=None)
            else:
                services.delete_plan(plan=plan, organisation=firm, actor=None)
            return what

        results, errors = _at_once(act, ["fund", "delete"], workers=2)
        assert all(isinstance(error, services.NotEligible) for error in errors), errors  # refused, never a 500
        assert len(errors) == 1
        funded = Transfer.objects.filter(key__endswith=f":race-{n}").exists()
        assert funded != (not Plan.objects.filter(pk=plan.pk).exists())  # exactly one of the two happened
    assert ledger.verify() == []


@concurrent
def test_a_category_change_and_opening_wallets_at_once_credit_the_worker_once(territory, firm):
    # A worker enrolled before the plan existed has no wallet in it; the admin opening the plan's
    # wallets and a change of the worker's category both open it. The unique wallet per plan and
    # worker decides: the one that loses uses the winner's wallet and moves no money.
    from welfare.models import Transfer, Wallet

    ensure_thresholds()
    for n in range(10):
        worker = enrol(firm, n, category="quadri")
        plan = make_plan(firm, name=f"Piano {n}", tiers={"quadri": 40000, "impiegati": 30000}, fund_cents=400000)

        def act(what, worker=worker, plan=plan):
            if what == "change":
                return services.change_worker_category(worker=worker, category="impiegati", actor=None)
            return services.open_wallets(plan=plan, organisation=firm, actor=None)

        _results, errors = _at_once(act, ["change", "open"], workers=2)
        assert errors == []
        wallet = Wallet.objects.select_related("account").get(plan=plan, worker=worker)
        # The amount of the category it was opened for: before the change (open first) or after.
        assert wallet.account.balance_cents in (40000, 30000)
        assert Transfer.objects.filter(kind=Transfer.Kind.ALLOCATION, key=f"allocation:{wallet.pk}").count() == 1
        assert Wallet.objects.filter(worker=worker).count() == n + 1
    assert ledger.verify() == []


@concurrent
def test_an_import_under_way_holds_up_no_purchase_or_registration_in_the_territory(territory, firm, monkeypatch):
    """A large file takes minutes in the worker's one transaction: it may lock its own row, never the
    organisation's or the territory's, which every purchase and registration references."""
    from django.db import connection

    from events import services as events
    from events.tests.factories import make_event, person
    from welfare import imports
    from welfare.models import WorkerImport

    from .factories import tax_code

    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: there, an import does hold up the others.")
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, amount_cents=100000)
    worker = enrol(firm, 1)
    service = make_service(provider, price_cents=1000)
    event = make_event(territory)
    job = WorkerImport.objects.create(organisation=firm, total=2, rows=[
        {"line": n - 699, "who": "Nome Prova", "tax_code": tax_code(n), "first_name": "Nome", "last_name": "Prova",
         "email": f"p{n}@example.org", "category": ""} for n in (701, 702)])
    inside, release = threading.Event(), threading.Event()
    enrol_workers = services.enrol_workers

    def enrol_then_wait(**kwargs):
        workers = enrol_workers(**kwargs)
        inside.set()
        release.wait(30)
        return workers

    monkeypatch.setattr(services, "enrol_workers", enrol_then_wait)

    def run_import():
        try:
            return imports.run_worker_import(import_id=job.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_import)
        assert inside.wait(30)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")  # a wait on the import's locks fails the test
            order = services.place_order(worker=worker, service=service, key="during-import", actor=None)
            registration = events.register_attendee(event=event, data=person(1))
        finally:
            release.set()
        assert running.result(timeout=30).status == "done"
    assert order.pk and registration.status == "confirmed"
    assert ledger.verify() == []


@concurrent
def test_two_imports_of_one_file_at_once_enrol_each_worker_once(territory, firm):
    from welfare import imports
    from welfare.models import Worker, WorkerImport

    from .factories import tax_code

    ensure_thresholds()
    rows = [{"line": n + 2, "who": f"Nome{n}", "tax_code": tax_code(n), "first_name": "Nome", "last_name": f"P{n}",
             "email": f"p{n}@example.org", "category": ""} for n in range(6)]
    jobs = [WorkerImport.objects.create(organisation=firm, total=6, rows=rows) for _ in range(2)]

    results, errors = _at_once(lambda job: imports.run_worker_import(import_id=job.pk), jobs, workers=2)

    assert errors == []
    assert Worker.objects.filter(organisation=firm).count() == 6
    done = sorted(WorkerImport.objects.values_list("status", "imported"))
    assert done == [("done", 0), ("done", 6)]  # the second found every row enrolled meanwhile
