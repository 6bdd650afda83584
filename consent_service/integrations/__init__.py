"""What shop backends bring: API keys (scoped, one property each), identity linking on a credential
the browser cannot forge, and consent recorded on a customer's behalf.
"""
