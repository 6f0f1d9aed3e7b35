"""Where parts live: local files and folders, or an S3 prefix.

A part is an ordinary cache written by one ``posture collect`` (one target, or a shard of
an organisation), published as ``<destination>/<name>/<UTC timestamp>.db``: in a folder,
or in S3 (``s3://bucket/prefix/<name>/<timestamp>.db``, through boto3 and its default
credential chain; ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` point it elsewhere).
Timestamps sort as text, so the newest part of a name is the last key.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postureapp.errors import InputError, OutputError
from postureapp.model import utcnow

PART_SUFFIX = ".db"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PartRef:
    """A part found at a source: where (for messages and the record), a version tag
    (an S3 ETag; size and mtime for a file), and how to get a local copy."""

    location: str
    etag: str
    path: Path | None = None  # a local file
    bucket: str = ""
    key: str = ""


def part_name(names: list[str]) -> str:
    """A folder name for a part: its target(s), made safe for a path or an S3 key (a
    short digest keeps two names that differ only in unsafe characters apart)."""
    raw = "+".join(names) or "all"
    safe = _SAFE.sub("_", raw).strip("._") or "part"
    if safe != raw or len(safe) > 80:
        digest = hashlib.blake2b(raw.encode(), digest_size=4).hexdigest()
        safe = f"{safe[:70]}-{digest}"
    return safe


def timestamp() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S%fZ")


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def split_s3(location: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, "prefix/"); the prefix may be empty."""
    rest = location[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise InputError(f"{location}: not an S3 bucket name; use s3://bucket/prefix")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def s3_client() -> Any:
    """One client per process and endpoint setting (a merge fetches a hundred parts)."""
    key = tuple(os.environ.get(name, "") for name in _CLIENT_ENV)
    client = _CLIENTS.get(key)
    if client is None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3", config=Config(retries={"mode": "adaptive", "total_max_attempts": 5})
        )
        _CLIENTS[key] = client
    return client


_CLIENT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")
_CLIENTS: dict[tuple[str, ...], Any] = {}


# -- publishing --------------------------------------------------------------------------


def publish(cache: Path, destination: str, name: str) -> str:
    """Copy a cache, whole and compact, to ``<destination>/<name>/<timestamp>.db``;
    return where it went.

    Raises:
        OutputError: the copy could not be written or uploaded (exit 4).
    """
    key = f"{name}/{timestamp()}{PART_SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="posture-part-") as folder:
        copy = Path(folder) / "part.db"
        _compact_copy(cache, copy)
        if is_s3(destination):
            bucket, prefix = split_s3(destination)
            try:
                s3_client().upload_file(str(copy), bucket, prefix + key)
            except Exception as error:  # boto3's S3UploadFailedError, ClientError, no creds
                text = " ".join(str(error).split())[:300]
                raise OutputError(
                    f"cannot upload the part to s3://{bucket}/{prefix}{key}: {text}"
                ) from None
            return f"s3://{bucket}/{prefix}{key}"
        target = Path(destination) / key
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(copy, temporary)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)  # whole or not at all: merge never sees half
        except OSError as error:
            raise OutputError(
                f"cannot write the part {target}: {error.strerror or error}"
            ) from None
        return str(target)


def _compact_copy(cache: Path, copy: Path) -> None:
    """``VACUUM INTO``: one file holding every committed row (the WAL folded in), its
    application_id and schema version kept, nothing of the free pages."""
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    try:
        conn.execute("VACUUM INTO ?", (str(copy),))
    finally:
        conn.close()
    os.chmod(copy, 0o600)


# -- finding parts -----------------------------------------------------------------------


def find_parts(sources: list[str]) -> list[PartRef]:
    """The newest part of each name at each source (a part file, a folder of
    ``<name>/<timestamp>.db``, or an S3 prefix of the same shape).

    Raises:
        InputError: a source that does not exist, or holds no part.
    """
    found: list[PartRef] = []
    for source in sources:
        refs = list(_s3_parts(source) if is_s3(source) else _local_parts(source))
        if not refs:
            raise InputError(f"no part (*{PART_SUFFIX}) found in {source}")
        found.extend(refs)
    return found


def _newest_by_name(items: list[tuple[str, str, Any]]) -> Iterator[Any]:
    """(name, sort key, item) -> the item with the greatest sort key of each name."""
    newest: dict[str, tuple[str, Any]] = {}
    for name, order, item in items:
        if name not in newest or order > newest[name][0]:
            newest[name] = (order, item)
    for name in sorted(newest):
        yield newest[name][1]


def _local_parts(source: str) -> Iterator[PartRef]:
    path = Path(source)
    if path.is_file():
        yield _file_ref(path)
        return
    if not path.is_dir():
        raise InputError(f"{source}: no such file or folder")
    items = []
    for file in sorted(path.rglob(f"*{PART_SUFFIX}")):
        if file.name.startswith(".") or not file.is_file():
            continue
        relative = file.relative_to(path)
        name = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        items.append((name, file.name, file))
    for file in _newest_by_name(items):
        yield _file_ref(file)


def _file_ref(path: Path) -> PartRef:
    info = path.stat()
    resolved = path.resolve()
    return PartRef(location=str(resolved), etag=f"{info.st_size}-{info.st_mtime_ns}", path=resolved)


def _s3_parts(source: str) -> Iterator[PartRef]:
    bucket, prefix = split_s3(source)
    client = s3_client()
    items = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                key = str(entry["Key"])
                if not key.endswith(PART_SUFFIX):
                    continue
                relative = key[len(prefix) :]
                name = relative.split("/")[0] if "/" in relative else relative
                ref = PartRef(
                    location=f"s3://{bucket}/{key}",
                    etag=str(entry.get("ETag", "")).strip('"'),
                    bucket=bucket,
                    key=key,
                )
                items.append((name, relative.rsplit("/", 1)[-1], ref))
    except Exception as error:  # ClientError, no credentials, unreachable endpoint
        text = " ".join(str(error).split())[:300]
        raise InputError(f"cannot list {source}: {text}") from None
    yield from _newest_by_name(items)


def fetch(ref: PartRef, folder: Path) -> Path:
    """A local copy of the part (an S3 object is downloaded into ``folder``).

    Raises:
        InputError: the object could not be downloaded.
    """
    if ref.path is not None:
        return ref.path
    target = folder / f"{hashlib.blake2b(ref.location.encode(), digest_size=8).hexdigest()}.db"
    try:
        s3_client().download_file(ref.bucket, ref.key, str(target))
    except Exception as error:
        text = " ".join(str(error).split())[:300]
        raise InputError(f"cannot download {ref.location}: {text}") from None
    return target
