"""The `catalog-uploads` queue trigger: one leg of a JSON Lines catalog upload (same handler as the worker).

Settlement as for `emails` (see functions/queues/emails.py): returning completes, raising
abandons and the queue's max delivery count dead-letters. The handler records each chunk once and
resumes from the first one not recorded, so a redelivery changes nothing that was done
(shared/catalog/uploads.py).
"""

from __future__ import annotations

import azure.functions as func

from functions.queues.messages import run_one
from popsell.bootstrap import get_container
from shared.catalog.uploads import catalog_upload_handler
from shared.ports.bus import QUEUE_CATALOG_UPLOADS

bp = func.Blueprint()


@bp.function_name("catalog_uploads_queue")
@bp.service_bus_queue_trigger(arg_name="msg", queue_name=QUEUE_CATALOG_UPLOADS, connection="ServiceBusConnection")
def catalog_uploads_queue(msg: func.ServiceBusMessage) -> None:
    """Apply the chunks of a catalog upload one `catalog-uploads` message names."""
    run_one(msg, lambda message: catalog_upload_handler(get_container(), message), what="catalog upload")
