"""Pure domain rules: validators, state machines, eligibility."""
