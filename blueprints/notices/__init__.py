"""The inbox of notices (通知) and the choice of how else to receive them (core.notices)."""

from .views import bp

__all__ = ["bp"]
