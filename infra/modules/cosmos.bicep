// Cosmos DB for NoSQL: the document store. EU regions only, identity-only access, continuous backup.

@description('Tags put on every resource.')
param tags object

@description('Cosmos DB account name.')
param name string

@description('Enabled: reachable over the internet (identity still required). Disabled: only through private endpoints, which this template does not create.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Autoscale ceiling (RU/s) shared by all containers of the database.')
@minValue(1000)
param maxThroughput int = 1000

@description('Workspace that receives the data-plane request logs.')
param logAnalyticsWorkspaceId string

// shared/store_schema.py DATABASE_NAME.
var databaseName = 'popsell'

// EU residency (DESIGN.md §3): West Europe writes, North Europe takes over. The app's
// POPSELL_COSMOS_REGIONS lists the same regions in the same order.
// tests/infra/test_containers_match_code.py parses this literal: keep it a plain literal.
var locations = [
  {
    locationName: 'West Europe'
    failoverPriority: 0
    isZoneRedundant: false
  }
  {
    locationName: 'North Europe'
    failoverPriority: 1
    isZoneRedundant: false
  }
]

// Continuous backup, 30-day tier: any second of the last 30 days can be restored (into a new account),
// the longest Cosmos DB offers; periodic backups stop at 720 hours of retention. The guide's 40 days
// of hourly backups and a year of monthly ones are the app's snapshots in the backup storage account
// (backup-storage.bicep, docs/decisions/0027-backups.md). Backups are kept in every region of the
// account, so in North Europe too. Switching an account from periodic to continuous is one-way.
// tests/infra/test_backups_infra.py parses this literal: keep it a plain literal.
var backupPolicy = {
  type: 'Continuous'
  continuousModeProperties: {
    tier: 'Continuous30Days'
  }
}

// The containers exactly as shared/store_schema.py CONTAINERS declares them: indexedPaths are the
// declared field paths (dotted), turned into Cosmos index paths below. Add a container in the code,
// add it here: tests/infra/test_containers_match_code.py fails until both agree.
// Keep it a plain literal (no expressions) so that test can parse it.
var containers = [
  {
    name: 'brands'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'status'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'members'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'role'
      'status'
      'retention.dueAt'
      'lastActivityAt'
      'directory.sortName'
      'directory.aliasName'
      'directory.city'
      'directory.shopId'
      'directory.geoCell'
      'directory.availability'
      'restriction.since'
      'directory.keys.name'
      'directory.keys.nameAlias'
      'directory.keys.city'
      'directory.keys.cityAlias'
      'directory.keys.shop'
      'directory.keys.shopAlias'
      'directory.keys.presence'
      'directory.keys.presenceAlias'
      'directory.keys.live'
      'directory.keys.liveAlias'
      'directory.keys.geo'
    ]
    textPaths: [
      'directory.search.fullName'
      'directory.search.initialName'
      'directory.search.aliasName'
    ]
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'visitors'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'role'
      'status'
      'retention.dueAt'
      'lastInteractionAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'identity_keys'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'ownerId'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'manager_users'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'level'
      'status'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'auth_sessions'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'subject'
      'familyId'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'action_tokens'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'subject'
      'purpose'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'throttles'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'nonces'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'whitelist'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'kind'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'activity_log'
    partitionKeyPath: '/pk'
    indexedPaths: [
      'subject'
      'at'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'contacts'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'emailHash'
      'retention.dueAt'
      'brandVisible'
      'status'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'blacklist'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'restrictions'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'campaigns'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'emails'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'status'
      'sentAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'gdpr_register'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'subjectHash'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'gdpr_requests'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'subjectHash'
      'state'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'retention_runs'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'startedAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'email_templates'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'status'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'links'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'link_codes'
    partitionKeyPath: '/pk'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'tracking_counters'
    partitionKeyPath: '/pk'
    indexedPaths: [
      'memberId'
      'day'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'tracking_events'
    partitionKeyPath: '/pk'
    indexedPaths: [
      'visitorKey'
      'at'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'tracking_seen'
    partitionKeyPath: '/pk'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'orders'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'placedAt'
      'customerKey'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'commissions'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'state'
      'createdAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'dedicated_members'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'dedicated_rotations'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'vouchers'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
      'contactId'
      'issuedAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'products'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'status'
      'itemGroupId'
      'updatedAt'
      'link'
      'search.title'
      'search.price'
      'search.currency'
      'search.availability'
    ]
    textPaths: [
      'search.text'
    ]
    arrayPaths: [
      'search.categories'
      'search.codes'
    ]
    ttlEnabled: false
  }
  {
    name: 'catalog_trees'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'catalog_runs'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'runId'
      'kind'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'stores'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'city'
      'status'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'member_products'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'catalog_uploads'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'runId'
      'kind'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'directory_grids'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversation_requests'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'visitorId'
      'state'
      'pendingSince'
      'handledAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversations'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'lastMessageAt'
      'memberId'
      'storeId'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'inbox'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'key'
      'owner'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'messages'
    partitionKeyPath: '/pk'
    indexedPaths: [
      'seq'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversation_media'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'owner'
      'gcDueAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversation_stats'
    partitionKeyPath: '/pk'
    indexedPaths: [
      'day'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversation_metric_state'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'conversation_keys'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'key'
      'lastAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'hot_visitors'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'lastSeenAt'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
  {
    name: 'push_subscriptions'
    partitionKeyPath: '/brandId'
    indexedPaths: [
      'memberId'
    ]
    textPaths: []
    arrayPaths: []
    ttlEnabled: false
  }
  {
    name: 'push_deliveries'
    partitionKeyPath: '/brandId'
    indexedPaths: []
    textPaths: []
    arrayPaths: []
    ttlEnabled: true
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  // The account lives in its write region whatever region the rest of the deployment uses.
  location: locations[0].locationName
  tags: tags
  kind: 'GlobalDocumentDB'
  // checkov:skip=CKV_AZURE_99: No IP or VNet filter: the Flex Consumption app has no VNet and no fixed outbound addresses; every call needs an Entra ID token (local auth off).
  // checkov:skip=CKV_AZURE_101: Public network access is a parameter (default Enabled) for the same reason as CKV_AZURE_99; set Disabled only with private endpoints.
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: locations
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    enableAutomaticFailover: true
    enableMultipleWriteLocations: false
    backupPolicy: backupPolicy
    // Entra ID only: the app's identity holds the data-plane role (roles.bicep); no keys to leak.
    disableLocalAuth: true
    // Containers and indexing policies change only through this template, never from a data-plane client.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    // Shared autoscale throughput: eight containers of uneven load share one budget.
    options: {
      autoscaleSettings: {
        maxThroughput: maxThroughput
      }
    }
  }
}

// One module per container: Bicep cannot loop over the containers and, inside that loop, over each
// container's indexed paths, so the inner loop lives in cosmos-container.bicep.
module sqlContainers 'cosmos-container.bicep' = [
  for spec in containers: {
    name: 'cosmos-container-${spec.name}'
    params: {
      accountName: account.name
      databaseName: database.name
      name: spec.name
      partitionKeyPath: spec.partitionKeyPath
      indexedPaths: spec.indexedPaths
      textPaths: spec.textPaths
      arrayPaths: spec.arrayPaths
      ttlEnabled: spec.ttlEnabled
    }
  }
]

// Data-plane requests (who queried what, not the documents) for the access-log promise.
resource cosmosDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'cosmos-logs'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'DataPlaneRequests'
        enabled: true
      }
      {
        category: 'ControlPlaneRequests'
        enabled: true
      }
    ]
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
// Comma-separated, in failover order, as POPSELL_COSMOS_REGIONS reads it.
output regions string = '${locations[0].locationName},${locations[1].locationName}'
