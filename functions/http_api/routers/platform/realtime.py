"""The local realtime hub's WebSocket (docs/realtime.md "Local hub"): mounted only with POPSELL_REALTIME=local
outside the Functions host. The token in `?access_token=` (from a feature's negotiate route) is the
only credential; in production clients connect to Azure Web PubSub instead, never here.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from popsell.bootstrap import get_container
from shared.ports.realtime import LOCAL_HUB_PATH

router = APIRouter()


@router.websocket(LOCAL_HUB_PATH)
async def realtime_hub(websocket: WebSocket) -> None:
    hub = get_container().realtime
    serve = getattr(hub, "serve", None)
    if serve is None:  # another adapter: there is no hub in this process
        await websocket.close(code=1008)
        return
    await serve(websocket)
