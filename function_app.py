"""Azure Functions entry point (programming model v2): the ASGI API plus the queue and timer blueprints."""

import azure.functions as func

from functions import shutdown
from functions.http_api.app import create_app
from functions.queues.catalog_uploads import bp as catalog_uploads_bp
from functions.queues.domain_events import bp as domain_events_bp
from functions.queues.emails import bp as emails_bp
from functions.queues.notifications import bp as notifications_bp
from functions.queues.provider_events import bp as provider_events_bp
from functions.queues.tracking_events import bp as tracking_events_bp
from functions.timers.jobs import bp as timers_bp
from shared.tracking import redirect

# Anonymous at the Functions level: the API authenticates every request itself.
api = create_app(hosted=True)
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(emails_bp)
app.register_functions(provider_events_bp)
app.register_functions(tracking_events_bp)
app.register_functions(domain_events_bp)
app.register_functions(catalog_uploads_bp)
app.register_functions(notifications_bp)
app.register_functions(timers_bp)

# The host ends the worker with SIGTERM: the redirect's buffered visit events are sent first.
shutdown.flush_on_sigterm(redirect.close)
