"""The shop's own team: admin accounts (passwords, second factor, roles, lock-out) and the
dashboard's figures and charts.
"""
