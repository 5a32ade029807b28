"""The double-entry ledger: accounts, balanced transfers, and the proof that the books are right.

Every movement is `post_transfer()`: its legs sum to zero; each balance changes by one conditional
UPDATE (`… WHERE balance_cents >= amount` for an account that may not go negative), taken in
account order so that two transfers over the same accounts never deadlock; the entries are then
inserted. A leg that would overdraw refuses the whole transfer. The CHECK constraint
`account_never_negative` would refuse it too, should a future caller forget.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from .models import Account, Entry, Transfer


class InsufficientFunds(Exception):
    """A leg would take an account below zero. Nothing was moved."""

    def __init__(self, account: Account):
        super().__init__(f"{account} cannot go below zero")
        self.account = account


def post_transfer(*, territory, kind: str, key: str, legs: list[tuple[Account, int]], actor=None, memo: str = "") -> Transfer:
    """Move money between accounts; must run inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("post_transfer() belongs inside the caller's transaction.atomic().")
    merged: dict[int, tuple[Account, int]] = {}
    for account, amount in legs:
        previous = merged.get(account.pk, (account, 0))[1]
        merged[account.pk] = (account, previous + amount)
    legs = [(account, amount) for account, amount in merged.values() if amount != 0]
    if len(legs) < 2 or sum(amount for _account, amount in legs) != 0:
        raise ValueError(f"A transfer needs two or more legs summing to zero, got {legs!r}")
    # No savepoint (two round trips on every purchase): an exception from here must end the caller's
    # transaction, as every service lets it. A caller that went on would leave a transfer without
    # entries, which verify_ledger reports.
    # The key first: a replay that slipped past the caller's own check fails here, before any balance moves.
    transfer = Transfer.objects.create(territory=territory, kind=kind, key=key, actor=_user_or_none(actor), memo=memo[:200])
    for account, amount in sorted(legs, key=lambda leg: leg[0].pk):
        rows = Account.objects.filter(pk=account.pk)
        if amount < 0:
            rows = rows.filter(Q(allows_negative=True) | Q(balance_cents__gte=-amount))
        if rows.update(balance_cents=F("balance_cents") + amount) != 1:
            raise InsufficientFunds(account)
    Entry.objects.bulk_create(Entry(transfer=transfer, account=account, amount_cents=amount) for account, amount in legs)
    for account, amount in legs:
        account.balance_cents += amount  # the caller's copies, for what it shows next
    return transfer


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def network_account(territory, kind: str) -> Account:
    return _one_account(territory_id=territory.pk, kind=kind, allows_negative=kind in Account.OUTSIDE)


def funding_account(organisation) -> Account:
    return _one_account(territory_id=organisation.territory_id, kind=Account.Kind.FIRM_FUNDING,
                        organisation=organisation, allows_negative=True)


def payable_account(provider) -> Account:
    return _one_account(territory_id=provider.territory_id, kind=Account.Kind.PROVIDER_PAYABLE, organisation=provider)


def pool_account(plan, organisation) -> Account:
    return _one_account(territory_id=plan.territory_id, kind=Account.Kind.PLAN_POOL, plan=plan, organisation=organisation)


def _one_account(*, territory_id, kind, organisation=None, plan=None, allows_negative=False) -> Account:
    """The account of this kind and owner, created the first time. Safe when two requests race to create it."""
    lookup = {"territory_id": territory_id, "kind": kind, "organisation": organisation, "plan": plan}
    try:
        return Account.objects.get(**lookup)
    except Account.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup, allows_negative=allows_negative)
    except IntegrityError:  # Another request created it a moment ago (one of the unique constraints).
        return Account.objects.get(**lookup)


@dataclass
class Problem:
    what: str
    detail: str


def verify() -> list[Problem]:
    """Every way the books could be wrong, or [] when they are right. Read-only."""
    problems: list[Problem] = []
    unbalanced = (
        Entry.objects.values("transfer_id").annotate(total=Sum("amount_cents")).exclude(total=0).order_by("transfer_id")
    )
    for row in unbalanced[:100]:
        problems.append(Problem("unbalanced_transfer", f"transfer {row['transfer_id']} sums to {row['total']}"))
    lonely = Transfer.objects.annotate(n=Count("entries")).filter(n__lt=2)
    for transfer in lonely.values_list("pk", flat=True)[:100]:
        problems.append(Problem("incomplete_transfer", f"transfer {transfer} has fewer than two entries"))
    mismatched = (
        Account.objects.annotate(entries_total=Coalesce(Sum("entries__amount_cents"), 0))
        .exclude(balance_cents=F("entries_total"))
        .values_list("pk", "balance_cents", "entries_total")
    )
    for pk, balance, total in mismatched[:100]:
        problems.append(Problem("balance_mismatch", f"account {pk} caches {balance}, its entries sum to {total}"))
    negative = Account.objects.filter(allows_negative=False, balance_cents__lt=0).values_list("pk", "balance_cents")
    for pk, balance in negative[:100]:
        problems.append(Problem("negative_balance", f"account {pk} is at {balance}"))
    return problems
