"""Exports read the store and write one snapshot in a format other tools consume."""

from postureapp.export.snapshot_json import SCHEMA_ID, build_document, write_json

FORMATS = ("json",)

__all__ = ["FORMATS", "SCHEMA_ID", "build_document", "write_json"]
