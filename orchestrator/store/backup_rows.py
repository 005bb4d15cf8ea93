"""ORM rows for the backup index: versions (one per artifact backed up per run) and the
evidence of restore verifications.

Same conventions as ``models`` (one ``Base``, UTC datetimes); migration ``0004_backups``
creates these tables. The bytes live in the object store (``backups.objects``); a
version row is written only after its object is in place, so the index never points
at bytes that were not written. Versions are not foreign keys of runs: backups outlive
the run history (and runs may be pruned on their own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.store.models import ENUM_LENGTH, Base, UTCDateTime

TARGET_LENGTH = 255
ARTIFACT_LENGTH = 500


class BackupVersionRow(Base):
    __tablename__ = "backup_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))  # inventory host name
    artifact: Mapped[str] = mapped_column(String(ARTIFACT_LENGTH))  # running-config, /etc/fstab
    kind: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # output | file | dataset
    digest: Mapped[str] = mapped_column(String(64))  # sha256 = object name
    size: Mapped[int] = mapped_column(BigInteger)
    manifest_digest: Mapped[str | None] = mapped_column(String(64))  # data sets
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(64))
    step_index: Mapped[int | None] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(Text, default="")
    change: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # new | unchanged | ... | changed
    previous_id: Mapped[str | None] = mapped_column(String(32))
    before_change: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_backup_versions_target_artifact_created", "target", "artifact", "created"),
        Index("ix_backup_versions_run_id", "run_id"),
        Index("ix_backup_versions_digest", "digest"),
    )


class RestoreCheckRow(Base):
    __tablename__ = "backup_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    artifact: Mapped[str] = mapped_column(String(ARTIFACT_LENGTH))
    run_id: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(TARGET_LENGTH))  # where it was verified
    verified: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    rto_s: Mapped[float | None] = mapped_column(Float)
    age_s: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_backup_verifications_version_id", "version_id"),
        Index("ix_backup_verifications_target_verified", "target", "verified"),
    )
