"""Privacy-preserving record linkage for origin statistics: the library (no network code)."""
