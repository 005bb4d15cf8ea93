"""Change records (变更单), the rules around them, and the change gate every run passes."""
