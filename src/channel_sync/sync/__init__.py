"""The two-way sync engine."""
