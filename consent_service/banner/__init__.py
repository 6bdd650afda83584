"""The banner a visitor's widget renders: built from the law of their region and the property's
configuration, cached per process, and previewed by admins through signed region tokens.
"""
