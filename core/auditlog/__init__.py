"""The audit log as a transparency log: the integrator that numbers entries and
signs checkpoints, inclusion receipts, and the verification of the whole log."""
