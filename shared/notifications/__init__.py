"""Member push notifications (docs/notifications.md): device subscriptions, opt-ins, the `notifications` queue."""
