// The function app's settings, in their own deployment so that main.bicep can apply them after the
// identity's role assignments: Key Vault references resolve at the first start, and a reference
// resolved before the app may read the vault would stay unresolved until the next refresh.

@description('Function app name.')
param appName string

@description('Every app setting, name to value (the whole set: this replaces what was there).')
param settings object

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

// checkov reads every Microsoft.Web/sites/config as the site's 'web' configuration; this one is only
// the 'appsettings' list, so the site checks below do not apply to it. The site itself is checked in
// functionapp.bicep (HTTPS only, TLS 1.2, FTPS off, identity, public access).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13: Not a site configuration (app settings only); the API authenticates its own callers (member tokens, brand-signed requests, provider webhooks).
  // checkov:skip=CKV_AZURE_222: Not a site configuration (app settings only); public access is decided on the site (functionapp.bicep).
  // checkov:skip=CKV_AZURE_88: Not a site configuration (app settings only); Flex Consumption runs from its deployment container, not Azure Files.
  parent: app
  // checkov:skip=CKV_AZURE_63: Not a site configuration (app settings only); HTTP logs go to Application Insights.
  // checkov:skip=CKV_AZURE_65: Not a site configuration (app settings only); detailed error pages are an IIS feature, and errors are logged to Application Insights.
  // checkov:skip=CKV_AZURE_66: Not a site configuration (app settings only); failed-request tracing is an IIS feature, requests are traced in Application Insights.
  name: 'appsettings'
  // checkov:skip=CKV_AZURE_80: Not a site configuration (app settings only); the app runs Python, not .NET Framework.
  properties: settings
}
