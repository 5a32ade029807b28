"""The money: balanced transfers, no overdraft, idempotent retries, the tax cliff, verify_ledger."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from core.models import AuditLog
from welfare import ledger, services
from welfare.models import Account, Category, Entry, Order, Plan, Transfer

from .factories import enrol, ensure_thresholds, make_plan, make_provider, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(territory, firm, personas):
    ensure_thresholds()
    provider = make_provider(territory)
    plan = make_plan(firm, amount_cents=50000, actor=personas["org_admin"])
    worker = enrol(firm, 1, user=personas["worker"], actor=personas["org_admin"])
    return {"provider": provider, "plan": plan, "worker": worker, "admin": personas["org_admin"]}


def balance(worker) -> int:
    return worker.wallets.get().account.balance_cents


def assert_books_right():
    assert ledger.verify() == []


def test_enrolment_credits_the_tier_amount_from_the_pool(world, firm):
    assert balance(world["worker"]) == 50000
    pool = ledger.pool_account(world["plan"], firm)
    assert pool.balance_cents == 500000 - 50000
    assert_books_right()


def test_an_order_moves_the_price_from_the_wallet_to_the_provider(world):
    service = make_service(world["provider"], price_cents=12000)
    order = services.place_order(worker=world["worker"], service=service, key="k1", actor=world["worker"].user)
    assert order.status == Order.Status.ISSUED and len(order.code) == 10
    assert balance(world["worker"]) == 38000
    assert ledger.payable_account(world["provider"]).balance_cents == 12000
    assert sum(order.transfer.entries.values_list("amount_cents", flat=True)) == 0
    assert AuditLog.objects.filter(action="welfare.order.placed", object_id=str(order.pk)).exists()
    assert_books_right()


def test_the_same_key_never_moves_money_twice(world):
    service = make_service(world["provider"], price_cents=12000)
    first = services.place_order(worker=world["worker"], service=service, key="same", actor=None)
    again = services.place_order(worker=world["worker"], service=service, key="same", actor=None)
    assert again.pk == first.pk and again.is_replay
    assert balance(world["worker"]) == 38000
    assert Order.objects.count() == 1
    other = make_service(world["provider"], price_cents=1000)
    with pytest.raises(services.KeyReused):
        services.place_order(worker=world["worker"], service=other, key="same", actor=None)
    assert balance(world["worker"]) == 38000


def test_insufficient_credit_changes_nothing(world):
    service = make_service(world["provider"], price_cents=50001)
    transfers = Transfer.objects.count()
    with pytest.raises(services.InsufficientCredit) as refused:
        services.place_order(worker=world["worker"], service=service, key="k", actor=None)
    assert refused.value.details["available_cents"] == 50000
    assert "500,00" in refused.value.message
    assert balance(world["worker"]) == 50000
    assert Transfer.objects.count() == transfers and not Order.objects.exists()


def test_a_category_outside_the_plan_is_refused(territory, firm, personas):
    ensure_thresholds()
    provider = make_provider(territory)
    make_plan(firm, categories=[Category.EDUCATION])
    worker = enrol(firm, 2)
    with pytest.raises(services.NotEligible):
        services.place_order(worker=worker, service=make_service(provider, category=Category.WELLBEING), key="k", actor=None)


def test_the_fringe_threshold_cliff_is_refused_with_the_headroom(world):
    # 2025-2027: €1,000 (€2,000 with dependent children); the plan gives €500, so fund a second one.
    worker = world["worker"]
    make_plan(worker.organisation, amount_cents=100000, name="Piano fringe", categories=[Category.FRINGE])
    worker = enrol(worker.organisation, 3)  # enrolled after both plans exist: €500 + €1,000
    fringe = make_service(world["provider"], category=Category.FRINGE, price_cents=60000)
    services.place_order(worker=worker, service=fringe, key="a", actor=None)
    bigger = make_service(world["provider"], category=Category.FRINGE, price_cents=40001)
    with pytest.raises(services.ThresholdExceeded) as refused:
        services.place_order(worker=worker, service=bigger, key="b", actor=None)
    assert refused.value.details["headroom_cents"] == 40000
    assert "400,00" in refused.value.message
    exactly = make_service(world["provider"], category=Category.FRINGE, price_cents=40000)
    services.place_order(worker=worker, service=exactly, key="c", actor=None)  # reaching it is allowed
    assert services.fringe_headroom(worker, year=Order.objects.first().tax_year).headroom_cents == 0


def test_dependent_children_raise_the_threshold(world):
    worker = world["worker"]
    make_plan(worker.organisation, amount_cents=150000, name="Piano fringe", categories=[Category.FRINGE])
    worker = enrol(worker.organisation, 4)
    services.declare_children(worker=worker, has_dependent_children=True, actor=None)
    worker.refresh_from_db()
    services.place_order(worker=worker, service=make_service(world["provider"], category=Category.FRINGE,
                                                             price_cents=150000), key="k", actor=None)
    assert services.fringe_headroom(worker, year=Order.objects.get().tax_year).headroom_cents == 50000


def test_cancelling_returns_the_credit_and_a_redeemed_voucher_cannot_be_cancelled(world):
    service = make_service(world["provider"], price_cents=10000)
    order = services.place_order(worker=world["worker"], service=service, key="k", actor=None)
    services.cancel_order(order=order, actor=None)
    assert balance(world["worker"]) == 50000
    assert Order.objects.get().status == Order.Status.CANCELLED
    second = services.place_order(worker=world["worker"], service=service, key="k2", actor=None)
    services.redeem_voucher(code=second.code, provider=world["provider"], actor=None)
    with pytest.raises(services.AlreadyRedeemed):
        services.cancel_order(order=second, actor=None)
    assert balance(world["worker"]) == 40000
    assert_books_right()


def test_a_voucher_is_redeemed_once_and_only_by_its_provider(world, territory):
    service = make_service(world["provider"], price_cents=10000)
    order = services.place_order(worker=world["worker"], service=service, key="k", actor=None)
    other = make_provider(territory, name="Altro Fornitore")
    with pytest.raises(services.VoucherNotFound):
        services.redeem_voucher(code=order.code, provider=other, actor=None)
    # Typed with spaces and in lower case at the till.
    typed = " ".join([order.code[:5].lower(), order.code[5:]])
    assert services.redeem_voucher(code=typed, provider=world["provider"], actor=None).status == Order.Status.REDEEMED
    with pytest.raises(services.AlreadyRedeemed):
        services.redeem_voucher(code=order.code, provider=world["provider"], actor=None)


def test_refund_hold_then_rejection_returns_the_credit_and_approval_pays(world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    worker = world["worker"]
    wallet = worker.wallets.get()

    def ask(key, amount):
        return services.request_refund(
            worker=worker, wallet=wallet, category=Category.EDUCATION, amount_cents=amount, description="Nido",
            expense_date=wallet.plan.valid_from, receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4 x"), key=key, actor=None,
        )

    first = ask("r1", 20000)
    assert balance(worker) == 30000
    assert ask("r1", 20000).pk == first.pk and balance(worker) == 30000  # a retry holds once
    services.decide_refund(refund=first, approve=False, reason="Ricevuta illeggibile", actor=world["admin"])
    assert balance(worker) == 50000
    second = ask("r2", 20000)
    services.decide_refund(refund=second, approve=True, reason="", actor=world["admin"])
    assert balance(worker) == 30000
    with pytest.raises(services.AlreadyDecided):
        services.decide_refund(refund=second, approve=False, reason="no", actor=world["admin"])
    with pytest.raises(services.NotEligible):
        services.request_refund(
            worker=worker, wallet=wallet, category=Category.WELLBEING, amount_cents=100, description="Palestra",
            expense_date=wallet.plan.valid_from, receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4 x"), key="r3", actor=None,
        )
    assert_books_right()


def test_the_pool_must_cover_a_new_wallet(territory, firm):
    ensure_thresholds()
    make_plan(firm, amount_cents=50000, fund_cents=60000)
    enrol(firm, 5)
    with pytest.raises(services.PoolTooSmall) as refused:
        enrol(firm, 6)
    assert "400,00" in refused.value.message
    assert firm.welfare_workers.count() == 1  # the refused enrolment left nothing behind


def test_ledger_rows_are_append_only(world):
    entry = Entry.objects.first()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount_cents=1)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        Transfer.objects.filter(pk=entry.transfer_id).update(memo="changed")


def test_a_wallet_cannot_go_negative_even_bypassing_the_services(world):
    account = world["worker"].wallets.get().account
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance_cents=-1)


def test_verify_ledger_passes_then_fails_on_a_tampered_balance(world):
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "OK" in out.getvalue()
    account = world["worker"].wallets.get().account
    Account.objects.filter(pk=account.pk).update(balance_cents=account.balance_cents + 1)
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger", stdout=io.StringIO(), stderr=io.StringIO())
    assert exited.value.code == 1


def test_post_transfer_refuses_an_unbalanced_transfer(world, territory, firm):
    pool = ledger.pool_account(world["plan"], firm)
    with pytest.raises(ValueError), transaction.atomic():
        ledger.post_transfer(territory=territory, kind="funding", key="x", legs=[(pool, 10), (pool, -5)])


def test_expired_plans_return_or_carry_over_unused_credit_never_in_cash(territory, firm):
    ensure_thresholds()
    today = timezone.localdate()
    last_year = today.year - 1
    old_return = make_plan(firm, amount_cents=10000, name="Vecchio (restituzione)")
    old_carry = make_plan(firm, amount_cents=20000, name="Vecchio (riporto)")
    worker = enrol(firm, 7)
    # Last year's plans, ended yesterday; this year's plan opened after the worker was enrolled.
    Plan.objects.filter(pk__in=[old_return.pk, old_carry.pk]).update(
        valid_from=date(last_year, 1, 1), valid_until=today - timedelta(days=1))
    Plan.objects.filter(pk=old_return.pk).update(unused_credit="return")
    current = make_plan(firm, amount_cents=5000, name="Nuovo")
    assert services.open_wallets(plan=current, organisation=firm, actor=None) == 1
    funding = ledger.funding_account(firm)
    before = funding.balance_cents

    call_command("close_expired_plans", stdout=io.StringIO())

    balances = {w.plan_id: w.account.balance_cents for w in worker.wallets.select_related("account")}
    assert balances == {old_return.pk: 0, old_carry.pk: 0, current.pk: 5000 + 20000}
    funding.refresh_from_db()
    # The returned wallet, and what no worker received of the two ended plans' pools (funded ten times over).
    assert funding.balance_cents == before + 10000 + (100000 - 10000) + (200000 - 20000)
    assert ledger.pool_account(old_return, firm).balance_cents == ledger.pool_account(old_carry, firm).balance_cents == 0
    old_return.refresh_from_db()
    assert old_return.status == "closed"
    call_command("close_expired_plans", stdout=io.StringIO())  # again: nothing moves
    assert ledger.verify() == []


def test_a_plan_made_after_enrolment_credits_the_workers_once_funded(world, firm):
    worker = world["worker"]
    later = make_plan(firm, amount_cents=7000, fund_cents=0, name="Secondo piano")
    assert not worker.wallets.filter(plan=later).exists()
    services.fund_plan(plan=later, organisation=firm, amount_cents=5000, key="f1", actor=None)
    with pytest.raises(services.PoolTooSmall):
        services.open_wallets(plan=later, organisation=firm, actor=None)
    services.fund_plan(plan=later, organisation=firm, amount_cents=5000, key="f2", actor=None)
    assert services.open_wallets(plan=later, organisation=firm, actor=None) == 1
    assert services.open_wallets(plan=later, organisation=firm, actor=None) == 0  # again: nothing more
    assert worker.wallets.get(plan=later).account.balance_cents == 7000
    assert_books_right()


def test_funding_keys_and_closed_plans(world, firm):
    services.fund_plan(plan=world["plan"], organisation=firm, amount_cents=1000, key="same", actor=None)
    services.fund_plan(plan=world["plan"], organisation=firm, amount_cents=1000, key="same", actor=None)
    with pytest.raises(services.KeyReused):
        services.fund_plan(plan=world["plan"], organisation=firm, amount_cents=2000, key="same", actor=None)
    Plan.objects.filter(pk=world["plan"].pk).update(status="closed")
    world["plan"].refresh_from_db()
    with pytest.raises(services.NotEligible):
        services.fund_plan(plan=world["plan"], organisation=firm, amount_cents=1000, key="other", actor=None)


def test_a_refund_key_reused_for_another_request_is_refused(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    wallet = world["worker"].wallets.get()

    def ask(amount, day=None):
        return services.request_refund(
            worker=world["worker"], wallet=wallet, category=Category.CARE, amount_cents=amount, description="Badante",
            expense_date=day or wallet.plan.valid_from, receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4"),
            key="r", actor=None,
        )

    ask(1000)
    with pytest.raises(services.KeyReused):
        ask(2000)
    with pytest.raises(services.NotEligible):  # an expense from before the plan
        services.request_refund(
            worker=world["worker"], wallet=wallet, category=Category.CARE, amount_cents=100, description="Vecchia",
            expense_date=date(2001, 1, 1), receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4"), key="old", actor=None,
        )


def test_paying_a_provider_a_past_month_once_with_the_network_fee(world, territory):
    from welfare.models import Payout, Terms

    Terms.objects.create(territory=territory, provider_fee_basis_points=250)  # 2.5%
    service = make_service(world["provider"], price_cents=10000)
    orders = [services.place_order(worker=world["worker"], service=service, key=f"k{n}", actor=None) for n in range(3)]
    for order in orders[:2]:
        services.redeem_voucher(code=order.code, provider=world["provider"], actor=None)
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1))
    Order.objects.filter(status="redeemed").update(redeemed_at=timezone.now().replace(
        year=last_month.year, month=last_month.month, day=15))
    with pytest.raises(services.NotEligible):  # the current month is not over
        services.pay_provider(provider=world["provider"], year=timezone.localdate().year,
                              month=timezone.localdate().month, actor=None)
    payout = services.pay_provider(provider=world["provider"], year=last_month.year, month=last_month.month, actor=None)
    assert (payout.gross_cents, payout.fee_cents, payout.net_cents) == (20000, 500, 19500)
    assert ledger.payable_account(world["provider"]).balance_cents == 10000  # the unused voucher is still owed
    assert ledger.network_account(territory, Account.Kind.FEE_INCOME).balance_cents == 500
    with pytest.raises(services.AlreadyPaid):
        services.pay_provider(provider=world["provider"], year=last_month.year, month=last_month.month, actor=None)
    assert Payout.objects.count() == 1
    assert_books_right()


def test_a_wallet_opened_meanwhile_by_another_request_is_credited_once(world, monkeypatch):
    # A payment opening wallets and a category change race for one worker's wallet: the second to
    # insert it meets wallet_one_per_plan, takes the first one's wallet, and moves no money.
    from django.db.models import QuerySet

    from welfare.models import Wallet

    worker, plan = world["worker"], world["plan"]
    before = Transfer.objects.count()
    real_first = QuerySet.first
    missed = []

    def first_misses_the_wallet_once(queryset):
        if queryset.model is Wallet and not missed:
            missed.append(True)
            return None  # read before the other request's insert committed
        return real_first(queryset)

    monkeypatch.setattr(QuerySet, "first", first_misses_the_wallet_once)
    wallet = services._open_wallet(plan=plan, worker=worker, actor=None)
    assert missed and wallet == worker.wallets.get(plan=plan)
    assert Transfer.objects.count() == before and wallet.account.balance_cents == 50000
    call_command("verify_ledger", stdout=io.StringIO())
