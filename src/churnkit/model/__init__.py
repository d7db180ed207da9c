"""Model evaluation (metrics) and the operators' rule baseline."""
