"""Specs of the pure helpers in contact_center.lib."""
