"""Who may see or do what. Every view and API endpoint asks here; nothing else decides.

Public pages (home, directory, organisation pages, news, static pages, the join form) need no
permission. Everything below is scoped to one territory, and organisation-level permissions to one
organisation: a role in Milan grants nothing in another territory.
"""

from datetime import timedelta
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from .models import Role


class Perm(StrEnum):
    # Territory-wide, coordinators only.
    REVIEW_JOIN_REQUESTS = "review_join_requests"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_CONTENT = "manage_content"
    MANAGE_EVENTS = "manage_events"
    MANAGE_NETWORK_WELFARE = "manage_network_welfare"
    # An organisation's name, kind, size, role in the network and membership itself.
    MANAGE_MEMBERS = "manage_members"
    # Event-level: the coordinators, and the staff of the organisations that organise the event.
    CHECK_IN_ATTENDEES = "check_in_attendees"
    # Organisation-level.
    VIEW_ORGANISATION_DASHBOARD = "view_organisation_dashboard"
    EDIT_ORGANISATION = "edit_organisation"
    # Welfare: the firm's plans, workers, refunds and aggregate reports (never one worker's purchases).
    MANAGE_WELFARE = "manage_welfare"
    # A provider's catalogue, its orders and its settlement statements.
    MANAGE_SERVICES = "manage_services"
    REDEEM_VOUCHERS = "redeem_vouchers"


TERRITORY_PERMS: dict[Perm, set[str]] = {
    Perm.REVIEW_JOIN_REQUESTS: {Role.Kind.COORDINATOR},
    Perm.VIEW_AUDIT_LOG: {Role.Kind.COORDINATOR},
    Perm.MANAGE_CONTENT: {Role.Kind.COORDINATOR},
    Perm.MANAGE_EVENTS: {Role.Kind.COORDINATOR},
    Perm.MANAGE_NETWORK_WELFARE: {Role.Kind.COORDINATOR},
    Perm.MANAGE_MEMBERS: {Role.Kind.COORDINATOR},
}

EVENT_PERMS: dict[Perm, set[str]] = {
    Perm.CHECK_IN_ATTENDEES: {Role.Kind.ORG_ADMIN, Role.Kind.ORG_STAFF},
}

ORGANISATION_PERMS: dict[Perm, set[str]] = {
    Perm.VIEW_ORGANISATION_DASHBOARD: {Role.Kind.ORG_ADMIN, Role.Kind.ORG_STAFF, Role.Kind.PROVIDER_STAFF},
    Perm.EDIT_ORGANISATION: {Role.Kind.ORG_ADMIN},
    Perm.MANAGE_WELFARE: {Role.Kind.ORG_ADMIN},
    Perm.MANAGE_SERVICES: {Role.Kind.ORG_ADMIN, Role.Kind.PROVIDER_STAFF},
    Perm.REDEEM_VOUCHERS: {Role.Kind.ORG_ADMIN, Role.Kind.ORG_STAFF, Role.Kind.PROVIDER_STAFF},
}


# Personal data of one organisation's people (workers' enrolment and refunds, a provider's orders with
# buyers' names): only that organisation's own roles, not the coordinator's oversight.
OWN_ORGANISATION_ONLY = {Perm.MANAGE_WELFARE, Perm.MANAGE_SERVICES, Perm.REDEEM_VOUCHERS}


def roles_of(user) -> list[Role]:
    """The user's roles, loaded once per request object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_mire_roles", None)
    if cached is None:
        cached = list(Role.objects.filter(user=user).select_related("territory", "organisation"))
        user._mire_roles = cached
    return cached


def is_coordinator(user, territory=None) -> bool:
    return any(
        r.kind == Role.Kind.COORDINATOR and (territory is None or r.territory_id == territory.pk)
        for r in roles_of(user)
    )


def can(user, perm: Perm, *, territory=None, organisation=None, event=None) -> bool:
    """May `user` do `perm` in `territory` (or for `organisation` or `event`, which imply theirs)?"""
    if organisation is not None:
        territory = organisation.territory
    if event is not None:
        territory = event.territory
    if territory is None:
        raise ValueError("A permission is always asked within a territory.")
    roles = [r for r in roles_of(user) if r.territory_id == territory.pk]
    if perm in TERRITORY_PERMS:
        return any(r.kind in TERRITORY_PERMS[perm] for r in roles)
    if perm in EVENT_PERMS:
        if event is None:
            raise ValueError(f"{perm} is asked for one event.")
        if any(r.kind == Role.Kind.COORDINATOR for r in roles):
            return True
        organisers = set(event.organisers.values_list("pk", flat=True))
        return any(r.kind in EVENT_PERMS[perm] and r.organisation_id in organisers for r in roles)
    if perm in ORGANISATION_PERMS:
        if organisation is None:
            raise ValueError(f"{perm} is asked for one organisation.")
        allowed = ORGANISATION_PERMS[perm]
        # The coordinator oversees every organisation of the network, but for OWN_ORGANISATION_ONLY.
        oversees = perm not in OWN_ORGANISATION_ONLY
        return any(
            (oversees and r.kind == Role.Kind.COORDINATOR) or (r.kind in allowed and r.organisation_id == organisation.pk)
            for r in roles
        )
    raise ValueError(f"Unknown permission {perm!r}")


def require(user, perm: Perm, *, territory=None, organisation=None, event=None) -> None:
    if not can(user, perm, territory=territory, organisation=organisation, event=event):
        raise PermissionDenied


def organisations_of(user, *kinds: str) -> list:
    """The organisations where the user holds one of `kinds` (any kind when none given)."""
    return [r.organisation for r in roles_of(user) if r.organisation and (not kinds or r.kind in kinds)]


def needs_two_factor(user) -> bool:
    """Coordinators and staff of the admin site must sign in with TOTP."""
    return bool(getattr(user, "is_staff", False)) or is_coordinator(user)


# Door staff may take back their own check-in this long after making it: time enough to notice the
# wrong ticket was scanned, not to withdraw someone's attendance (and certificate) later on.
DOOR_UNDO_WINDOW = timedelta(minutes=15)


def can_undo_check_in(user, registration) -> bool:
    """May `user` take back this registration's check-in? A coordinator (who manages the event) any;
    door staff only one they made themselves in the last DOOR_UNDO_WINDOW. Nobody an erased
    registration's: its attendance stays as it was for the statistics."""
    if registration.is_anonymised or registration.checked_in_at is None:
        return False
    if can(user, Perm.MANAGE_EVENTS, territory=registration.event.territory):
        return True
    return (registration.checked_in_by_id == user.pk
            and registration.checked_in_at >= timezone.now() - DOOR_UNDO_WINDOW)


def can_facilitate(user, table) -> bool:
    """May `user` write the summary of a working table? Its facilitator, or a coordinator of its territory."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if table.facilitator_id is not None and table.facilitator_id == user.pk:
        return True
    return can(user, Perm.MANAGE_EVENTS, territory=table.event.territory)
