"""`python -m popsell.cli ...`: the same services the API, queues and timers call, by hand."""
