"""Shared mechanisms of the application: database wiring, access control, audit, i18n, security."""
