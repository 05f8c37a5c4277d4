// Logs and telemetry: one Log Analytics workspace and a workspace-based Application Insights.

@description('Region of the monitoring resources.')
param location string

@description('Tags put on every resource.')
param tags object

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param appInsightsName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    // The security statement promises logs kept for one year.
    retentionInDays: 365
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    RetentionInDays: 365
    // No instrumentation-key ingestion: the function app sends telemetry with its managed identity
    // (Monitoring Metrics Publisher, see roles.bicep), so a leaked connection string cannot inject data.
    DisableLocalAuth: true
  }
}

output appInsightsName string = appInsights.name
// Not a secret: with local auth off, the connection string only says where to send, not who may.
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
