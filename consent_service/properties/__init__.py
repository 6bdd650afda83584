"""A property's (one shop's) configuration: the hot-path look-up of what it offers, its settings,
its catalogue of purposes and vendors, its banner texts and its stricter-than-the-law overrides.
"""
