"""Clinical evaluation: metrics over arrays with confidence intervals (no model knowledge)."""
