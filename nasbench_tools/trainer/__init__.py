"""Real training of cells: recipes, datasets, executors (imports torch)."""
