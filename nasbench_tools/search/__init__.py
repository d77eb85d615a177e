"""Discrete searchers (ask/tell), evaluators and the run protocol."""
