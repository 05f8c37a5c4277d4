"""`python -m shared.cli ...`: the same services the API, queues and timers call, by hand."""
