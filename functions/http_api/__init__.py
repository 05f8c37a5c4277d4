"""The HTTP API (FastAPI), served through AsgiFunctionApp in Azure and uvicorn locally."""
