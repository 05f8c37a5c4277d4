// Service Bus: the queues between the HTTP API and the background handlers.

@description('Region of the namespace.')
param location string

@description('Tags put on every resource.')
param tags object

@description('Service Bus namespace name.')
param name string

@description('Workspace that receives the namespace operational logs.')
param logAnalyticsWorkspaceId string

// shared/ports/bus.py QUEUES. tests/infra/test_containers_match_code.py parses this literal.
var queues = [
  'emails'
  'tracking-events'
  'provider-events'
  'domain-events'
  'catalog-uploads'
  'notifications'
]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard: queues with duplicate detection and scheduled delivery are all the app needs. Private
  // endpoints and customer-managed keys would need Premium; messages are short-lived, carry ids rather
  // than personal data, and every client authenticates with Entra ID.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // Entra ID only (the app's identity holds Azure Service Bus Data Owner, roles.bicep): no SAS keys.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in queues: {
    parent: namespace
    name: queueName
    properties: {
      // The bus port's contract (shared/ports/bus.py): a message id sent twice within the window is
      // dropped. Duplicate detection cannot be switched on after a queue exists.
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'PT10M'
      // Matches POPSELL_MAX_DELIVERY_COUNT: after ten deliveries the bus dead-letters the message.
      maxDeliveryCount: 10
      lockDuration: 'PT1M'
      // No queue-wide time-to-live: a message scheduled ahead must not expire before it is due.
      // A sender that sets one per message gets the expired message dead-lettered, not lost.
      deadLetteringOnMessageExpiration: true
      requiresSession: false
      enablePartitioning: false
      maxSizeInMegabytes: 1024
    }
  }
]

resource busDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'servicebus-logs'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'OperationalLogs'
        enabled: true
      }
    ]
  }
}

output name string = namespace.name
// What ServiceBusConnection__fullyQualifiedNamespace and POPSELL_SERVICEBUS_NAMESPACE expect.
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
