"""The API's routers, one package per audience (who calls them), so a cold start imports only the caller's.

`app/` members in the App, `widget/` visitors on brand sites, `manager/` brand users, `integrations/`
the brand platform's signed calls, `webhooks/` the email provider, `contacts/` the people a brand holds
data on (their rights pages), `platform/` what belongs to no audience (the tracking redirect, health,
served files, dev-only surfaces). `common/` holds what two audiences' routers share, and no route.
`functions/http_api/audiences.py` maps each path prefix to its routers.
"""
