"""NyxMon: a self-hosted service monitor built on a small sync/async concurrency runtime."""

__version__ = "0.1.0"
