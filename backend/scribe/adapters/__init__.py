"""Implementations of the ports. Adapters never import each other; heavy libraries load lazily."""
