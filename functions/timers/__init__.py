"""Timer triggers: each calls one job of shared.scheduling.timer_jobs() on its NCRONTAB schedule (UTC)."""
