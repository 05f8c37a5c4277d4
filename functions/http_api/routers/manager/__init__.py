"""Manager API (`/api/v1/manager/`): the brand's users (and operators) running the programme."""
