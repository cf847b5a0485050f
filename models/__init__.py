"""The shipped tonecheck model (data only)."""
