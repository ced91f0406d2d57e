"""Test package (unique module names: tests in different directories may share a basename)."""
