"""``posture serve``: the dashboard served to a browser, behind a token.

``auth`` holds the access rules, ``server`` the aiohttp routes in front of
textual-serve's per-session app process, ``session`` the app each session runs.
Importing this package imports neither aiohttp nor Textual.
"""
