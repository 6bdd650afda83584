"""What a person can do on the preferences page: sign in, see and change choices, prove them with
receipts, export their data, and erase it.
"""
