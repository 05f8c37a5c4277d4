"""App API (`/api/v1/app/`): members of a brand's programme, authenticated by their App session."""
