"""Where personal documents live: never under MEDIA_ROOT, which a web server may publish.

Files here are served only by views that check who asks (welfare receipts). The folder is the
PRIVATE_MEDIA_ROOT setting, read when first used and again whenever the setting changes (tests).
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    def __init__(self):
        super().__init__(base_url=None)

    @cached_property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def _clear_cached_properties(self, setting, **kwargs):
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)
        super()._clear_cached_properties(setting, **kwargs)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a view that checks permissions.")


_private = PrivateStorage()


def private_storage() -> PrivateStorage:
    """For `FileField(storage=private_storage)`: a callable, so migrations name it instead of copying it."""
    return _private
