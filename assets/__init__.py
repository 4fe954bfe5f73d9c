"""Bundled presets, lessons and data sets, installed as the package ``vglab_assets``.

Read them through :func:`engine.resources.asset`, never by a path relative to a module.
"""
