"""Pure domain types and functions: no framework, no engine."""
