"""The collector pauses the cyclic garbage collector while it parses a large cluster
(see :mod:`postureapp.collectors.gcpause`: one counter shared with the engine's pause)."""

from __future__ import annotations

from postureapp.collectors.gcpause import gc_paused

__all__ = ["gc_paused"]
