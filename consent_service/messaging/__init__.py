"""Everything that leaves the service later, through the durable outbox: webhooks, policy-change
email campaigns and sign-in emails, the worker that delivers them, and its transports.
"""
