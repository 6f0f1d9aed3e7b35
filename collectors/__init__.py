"""Collectors: one module (or package) per source. They turn the outside world into
:class:`postureapp.model.Resource` records and never raise past the engine."""

from postureapp.collectors.base import Collector, CollectResult, RunRecorder

__all__ = ["CollectResult", "Collector", "RunRecorder"]
