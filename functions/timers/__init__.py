"""Timer triggers: each calls one job of popsell.registry.timer_jobs() on its NCRONTAB schedule (UTC)."""
