"""Widgets: the status header, the virtual table, the finding detail pane."""
