"""Which law applies: the reviewed rulebook (``policies/rulebook``), finding a visitor's region,
matching a region to the rule in force, and ``tighten()``, which lets a shop be stricter, never
laxer.
"""
