"""Sales from brand platforms: orders, attribution, commissions."""
