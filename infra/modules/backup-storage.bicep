// The backup storage account: the store's hourly and monthly snapshots (shared/backups/snapshots.py),
// nothing else. Each snapshot container is immutable (write once, read many) for as long as it keeps
// a snapshot, and a lifecycle rule deletes a snapshot once that time is over. Identity only, like the
// app's storage account; its own account so that the app's soft delete and versioning never stretch
// how long a backup is kept, and so that locking its policies leaves the app's storage alone.

@description('Region of the storage account.')
param location string

@description('Tags put on every resource.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Workspace that receives the blob service logs.')
param logAnalyticsWorkspaceId string

@description('Unlocked: the template writes the containers\' immutability policies. Locked: an operator has locked them (docs/deploy.md "Backups"); a locked policy can no longer be written, so the template leaves them alone.')
@allowed([
  'Unlocked'
  'Locked'
])
param immutability string = 'Unlocked'

// The snapshot containers and the days each keeps a snapshot: shared/ports/blobs.py BACKUP_CONTAINERS
// BACKUP_CONTAINERS (the guide: hourly backups 40 days, monthly ones a year, 366 days so that a leap
// year counts). tests/infra/test_backups_infra.py reads these literals: keep them plain literals.
var hourlyContainerName = 'backups-hourly'
var hourlyKeepDays = 40
var monthlyContainerName = 'backups-monthly'
var monthlyKeepDays = 366

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // As the app's account: zone-redundant, with a copy in the paired EU region (North Europe for
    // West Europe: the "backup servers in Ireland" of the security statement).
    name: 'Standard_GZRS'
  }
  // checkov:skip=CKV_AZURE_35: Default network action stays Allow: the Flex Consumption app that writes the snapshots has no VNet, so its outbound addresses are not fixed; access is gated by Entra ID (shared keys off).
  // checkov:skip=CKV_AZURE_59: Public network access stays on for the same reason as CKV_AZURE_35 (no VNet / private endpoints in this deployment).
  properties: {
    // Written once, read only to restore: the cool tier's lower storage price fits, and every snapshot
    // stays at least its 30-day minimum (40 and 366 days).
    accessTier: 'Cool'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // No soft delete and no versions: the immutability policies already refuse every delete and
    // overwrite while a snapshot must be kept, and a soft-deleted copy would outlive its promise.
    isVersioningEnabled: false
    deleteRetentionPolicy: {
      enabled: false
    }
    containerDeleteRetentionPolicy: {
      enabled: false
    }
  }
}

resource hourlyContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: hourlyContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource monthlyContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: monthlyContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Time-based retention on each whole container: no one (the app's identity, an operator, a
// compromised key) can delete or overwrite a snapshot before it is that many days old.
resource hourlyImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (immutability == 'Unlocked') {
  parent: hourlyContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: hourlyKeepDays
    allowProtectedAppendWrites: false
    allowProtectedAppendWritesAll: false
  }
}

resource monthlyImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (immutability == 'Unlocked') {
  parent: monthlyContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: monthlyKeepDays
    allowProtectedAppendWrites: false
    allowProtectedAppendWritesAll: false
  }
}

// Kept exactly as long as promised: a snapshot goes at the first daily lifecycle run after its
// immutability ends (snapshot blobs are never modified, so creation and modification agree).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  dependsOn: [
    blobService
  ]
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-hourly-snapshots'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${hourlyContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: hourlyKeepDays
                }
              }
            }
          }
        }
        {
          name: 'expire-monthly-snapshots'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${monthlyContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: monthlyKeepDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Who wrote, read or deleted which snapshot, as for the app's blobs.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'backup-blob-logs'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

output name string = storage.name
// Without the trailing slash, as POPSELL_BACKUP_BLOB_ACCOUNT_URL expects an account URL.
output blobEndpoint string = 'https://${storage.name}.blob.${environment().suffixes.storage}'
