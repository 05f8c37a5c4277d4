"""Timer triggers: each calls one job of shared.scheduling.TIMER_JOBS on its NCRONTAB schedule (UTC)."""
