"""Per-request dataloaders and the batch reads behind them."""
