"""PyTorch networks built from cells, exactly as the benchmarks built them (imports torch)."""
