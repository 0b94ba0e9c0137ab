"""Changing past generations: sharing them, and deleting them with their files in storage."""

import contextlib
import logging
import secrets
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models import Case, F, QuerySet, Value, When
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from generation.models import Generation, GenerationImage
from generation.selectors import generation_get_for_user
from generation.services.cancel import generation_cancel
from rollerai.exceptions import Conflict

log = logging.getLogger(__name__)
Status = Generation.Status
# S3 deletes at most this many objects per request.
S3_DELETE_BATCH = 1000


def generation_visibility_set(*, user: User, generation_id: Any, public: bool) -> Generation:
    """Make the user's generation public (viewable by anyone through its share link) or private.

    Each time a private generation is made public it gets a new share token, so a link revoked
    by making it private stays dead; making a public one public again keeps its link.
    """
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    if public and generation.status != Status.SUCCEEDED:
        raise Conflict("Only a generation that has succeeded can be shared.", code="not_succeeded")
    fields: dict[str, Any] = {"is_public": public}
    if public:
        # Decided in the update, so a concurrent request that just made it public keeps its token.
        fields["share_token"] = Case(
            When(is_public=True, share_token__isnull=False, then=F("share_token")),
            default=Value(secrets.token_urlsafe(16)),
        )
    Generation.objects.filter(id=generation.id).update(**fields)
    generation.refresh_from_db()
    return generation


def generation_favourite_set(*, user: User, generation_id: Any, favourite: bool) -> Generation:
    """Star or unstar one of the user's generations."""
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    Generation.objects.filter(id=generation.id).update(favourite=favourite)
    generation.favourite = favourite
    return generation


def generation_delete(*, user: User, generation_id: Any) -> None:
    """Delete the user's finished generation and its images, files first.

    Unfinished ones are refused: their worker may still be writing files. A finished status never
    changes again, so nothing can add files after the check. Files go first so that a storage
    failure leaves the generation in place, and deleting again finishes the job.
    """
    generation = generation_get_for_user(user=user, generation_id=generation_id)
    if not generation.is_finished:
        raise Conflict(
            f"This generation is still {generation.status}. Cancel it, or wait for it to "
            "finish, before deleting it.",
            code="not_finished",
        )
    _files_delete(
        chain(
            _file_names(GenerationImage.objects.filter(generation_id=generation.id).iterator()),
            _init_image_names(Generation.objects.filter(id=generation.id)),
        )
    )
    # Credits are not refunded: the work was done.
    Generation.objects.filter(id=generation.id).delete()


def generations_delete_all(*, user: User) -> int:
    """Delete every generation of the user with its files (for deleting the account).

    Unfinished ones are cancelled first; a worker that was still running one removes the files
    it had written when it finds the generation gone. Returns how many were deleted.
    """
    active = Generation.objects.filter(user=user, status__in=(Status.QUEUED, Status.RUNNING))
    for generation_id in active.values_list("id", flat=True):
        # It may finish on its own meanwhile; then it is simply deleted below.
        with contextlib.suppress(Conflict):
            generation_cancel(user=user, generation_id=generation_id)
    _files_delete(
        chain(
            _file_names(
                GenerationImage.objects.filter(generation__user=user)
                .only("image", "thumbnail")
                .iterator(chunk_size=2000)
            ),
            _init_image_names(Generation.objects.filter(user=user)),
        )
    )
    deleted, _ = Generation.objects.filter(user=user).delete()
    return cast(int, deleted)


def _files_delete(names: Iterator[str]) -> None:
    if isinstance(default_storage, S3Storage):
        # One request per thousand objects rather than one per object: an account may have
        # hundreds of thousands of them.
        storage = cast(S3Storage, default_storage)
        while batch := list(islice(names, S3_DELETE_BATCH)):
            # _normalize_name is how the storage itself turns a name into a key.
            keys = [storage._normalize_name(clean_name(name)) for name in batch]
            response = storage.bucket.delete_objects(
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )
            if errors := response.get("Errors"):
                raise OSError(f"S3 did not delete {len(errors)} of the files, e.g. {errors[0]}")
        return
    folders: set[str] = set()
    for name in names:
        default_storage.delete(name)
        folders.add(name.rsplit("/", 1)[0])
    if isinstance(default_storage, FileSystemStorage):
        for folder in folders:
            # Only empty folders go; one that still holds something is left alone.
            with contextlib.suppress(OSError):
                Path(default_storage.path(folder)).rmdir()


def _init_image_names(generations: QuerySet[Generation]) -> Iterator[str]:
    """The init images the server stored for these generations."""
    names = generations.exclude(init_image="").values_list("init_image", flat=True)
    yield from (str(name) for name in names.iterator(chunk_size=2000))


def _file_names(images: Iterable[GenerationImage]) -> Iterator[str]:
    for image in images:
        for file in (image.image, image.thumbnail):
            if file.name:
                yield str(file.name)
