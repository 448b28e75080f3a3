"""expunge: Missouri Amendment 3 marijuana-expungement decisions from a court export."""
__version__ = "0.1.0"
