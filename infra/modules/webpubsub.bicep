// Azure Web PubSub: the realtime pushes of conversations (docs/realtime.md). The API mints client
// tokens scoped to the caller's groups and publishes with send-to-group, both as the function app's
// managed identity (Web PubSub Service Owner on this resource only): access keys are disabled.

@description('Region of the service (the resource group region, inside the EU like every other resource).')
param location string

@description('Tags put on every resource.')
param tags object

@description('Web PubSub resource name.')
param name string

@description('The hub the app uses (POPSELL_WEBPUBSUB_HUB).')
param hubName string = 'popsell'

@description('Units of Standard_S1 (1,000 concurrent connections each).')
@minValue(1)
param capacity int = 1

@description('Object id of the function app system-assigned identity.')
param appPrincipalId string

@description('Workspace that receives the service connectivity and messaging logs.')
param logAnalyticsWorkspaceId string

// Built-in role "Web PubSub Service Owner": the data-plane REST API (tokens, send-to-group).
var webPubSubServiceOwnerRoleId = '12cf5a90-567b-43ae-8102-96cf46c7d9b4'

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard_S1'
    tier: 'Standard'
    capacity: capacity
  }
  kind: 'WebPubSub'
  // The service's own identity, for any upstream it would call (none today: no event handlers), so
  // no upstream ever needs a key either.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    // Entra ID only: no access key, no connection string anywhere; client tokens are minted by the
    // service itself for the app's identity (generateToken).
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: {
      clientCertEnabled: false
    }
  }
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    // A client connects with a token from the API's negotiate routes only; no event handlers: messages
    // are written by HTTP POST to the API (the store is the record), never sent by clients.
    anonymousConnectPolicy: 'deny'
    eventHandlers: []
  }
}

resource appOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webPubSub.id, appPrincipalId, webPubSubServiceOwnerRoleId)
  scope: webPubSub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', webPubSubServiceOwnerRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'webpubsub-logs'
  scope: webPubSub
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output name string = webPubSub.name
output hubName string = hub.name
// What POPSELL_WEBPUBSUB_ENDPOINT expects.
output endpoint string = 'https://${webPubSub.properties.hostName}'
