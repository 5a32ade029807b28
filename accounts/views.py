from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from events.models import Event

from .permissions import EVENT_PERMS, Perm, organisations_of, roles_of


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    roles = roles_of(request.user)
    # Door staff of an organising member reach their events' check-in from here (coordinators have
    # the events list): those still to come, and today's until a day after their end.
    door_of = [o.pk for o in organisations_of(request.user, *EVENT_PERMS[Perm.CHECK_IN_ATTENDEES])]
    check_ins = []
    if door_of:
        check_ins = list(Event.objects.published().organised_by(door_of)
                         .filter(ends_at__gte=timezone.now() - timedelta(days=1))
                         .select_related("territory").order_by("starts_at")[:20])
    return render(request, "accounts/dashboard.html", {"roles": roles, "check_ins": check_ins})
