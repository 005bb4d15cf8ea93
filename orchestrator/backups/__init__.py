"""Backups: content-addressed object storage, secret-aware diffs, retention, verification.

Pure of the database: the index of versions lives in ``store/``; this package
keeps the bytes (``objects``) and the logic (``secrets``, ``diff``, ``retention``).
"""
