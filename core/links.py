"""Addresses of pages that differ only by a slug (an organisation, a service), built without reverse().

reverse() for each card of a page took about 6% of a directory page, and 66 ms for the 2,000
markers of an unfiltered map. URL patterns never change while a process runs, so the parts around
the slug are kept in this process's memory, per view, territory and script prefix (reverse()
depends on the prefix, e.g. under a SCRIPT_NAME deployment).
"""

from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.text import slugify

SLUG = "SLUG"


@lru_cache(maxsize=512)
def _parts(view_name: str, territory: str, script_prefix: str) -> tuple[str, str]:
    url = reverse(view_name, kwargs={"territory": territory, "slug": SLUG})
    before, _, after = url.rpartition(SLUG)
    return before, after


def slug_url_maker(view_name: str, territory: str):
    """A function slug -> the URL of `view_name` for that slug in `territory`."""
    before, after = _parts(view_name, territory, get_script_prefix())
    return lambda slug: f"{before}{slug}{after}"


def free_slug(text: str, taken, *, fallback: str, max_length: int, reserved=frozenset()) -> str:
    """A slug made from `text` that no row of the queryset `taken` uses: "festa", "festa-2", "festa-3"…

    For rows whose slug is unique within a territory: `taken` is that territory's other rows.
    """
    base = slugify(text)[:max_length] or fallback
    slug, n = base, 2
    while slug in reserved or taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
