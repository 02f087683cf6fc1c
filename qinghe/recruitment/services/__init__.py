"""Writes of the recruitment pipeline. Modules build on each other in one direction:
stages <- timeline <- applications <- interviews (no function-level imports, no cycles)."""
