"""Authoring tools: the course environment, output regeneration, and building student copies, slides and the site.

Tests and the benchmark import from here; nothing here imports ``tests`` or ``bench``.
"""
