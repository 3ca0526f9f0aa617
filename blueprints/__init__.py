"""Blueprints: one per measure, plus the shared ones (main, auth, staff)."""
