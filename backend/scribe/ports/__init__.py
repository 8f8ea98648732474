"""Interfaces (typing.Protocol) the use cases depend on; adapters implement them."""
