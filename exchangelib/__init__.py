"""exchangelib: a synchronous, object-oriented client for Microsoft Exchange Web Services (EWS)."""
__version__ = "0.1.0"
