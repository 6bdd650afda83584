"""``consent-service ...`` commands, one module per group: each parses, calls one domain
function, commits through ``cli.running``, reports.
"""
