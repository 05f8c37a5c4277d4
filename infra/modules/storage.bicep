// Storage: the Functions host's own storage, the Flex Consumption deployment container, and the app's
// blob containers (UGC photos, personal-data exports, the warehouse, the write-once erasure journal, catalog
// uploads). Identity only: shared keys are switched off.

@description('Region of the storage account.')
param location string

@description('Tags put on every resource.')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Workspace that receives the blob service logs.')
param logAnalyticsWorkspaceId string

// Containers the app writes to: shared/ports/blobs.py BLOB_CONTAINERS.
// tests/infra/test_containers_match_code.py parses this literal: keep one quoted name per line.
var appContainers = [
  'ugc'
  'exports'
  'warehouse'
  'erasure-journal'
  'catalog-uploads'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Zone-redundant, with a copy in the paired region (the "backup servers in Ireland" of the security
    // statement for West Europe). main.bicep allows only regions whose pair is in the EU too.
    name: 'Standard_GZRS'
  }
  // checkov:skip=CKV_AZURE_35: Default network action stays Allow: the Flex Consumption app has no VNet, so its outbound addresses are not fixed; access is gated by Entra ID (shared keys off).
  // checkov:skip=CKV_AZURE_59: Public network access stays on for the same reason as CKV_AZURE_35 (no VNet / private endpoints in this deployment).
  // Encryption with Microsoft-managed keys (plus infrastructure encryption): customer-managed keys
  // would add a key lifecycle to operate without a requirement asking for it.
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    // Every client (Functions host, app, deployment) authenticates with Entra ID.
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
        file: {
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
    // Versions and soft delete protect against a bad overwrite or delete; lifecycle rules below make
    // sure an erased photo or an expired export does not live on as an old version.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in union(appContainers, [deploymentContainerName]): {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// The erasure journal is write once: an entry can be created, never changed nor deleted, for 400 days (the
// oldest backup is a year old: docs/decisions/0025-restore-proof-journal.md). Declared unlocked: locking is
// irreversible, an operator's step once the retention is agreed (docs/deploy.md, "Restore").
resource journalContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: 'erasure-journal'
}

resource journalImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: journalContainer
  name: 'default'
  dependsOn: [
    containers
  ]
  properties: {
    immutabilityPeriodSinceCreationInDays: 400
    allowProtectedAppendWrites: false
  }
}

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  // Version actions need versioning on first.
  dependsOn: [
    blobService
  ]
  properties: {
    policy: {
      rules: [
        {
          // Personal-data exports expire after 48 hours (the signed URL stops working then); the files
          // themselves go at the next daily lifecycle run after two days, old versions included.
          name: 'expire-exports'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'exports/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 2
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 2
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: 2
                }
              }
            }
          }
        }
        {
          // The warehouse keeps no history: the daily timer replaces each brand's snapshot; this rule is
          // the backstop if the timer stops, and removes the versions that account versioning keeps.
          name: 'expire-warehouse-snapshots'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'warehouse/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 2
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 1
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: 1
                }
              }
            }
          }
        }
        {
          // Journal entries outlive the oldest backup they protect, then go once their immutability ends.
          name: 'expire-erasure-journal'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'erasure-journal/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: 401
                }
              }
            }
          }
        }
        {
          // A catalog upload's file is deleted once the queue has processed it; this rule is the backstop
          // (an upload record expires after 7 days), old versions included.
          name: 'expire-catalog-uploads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'catalog-uploads/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 8
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 1
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: 1
                }
              }
            }
          }
        }
        {
          // An erased photo must really go: its previous versions are deleted within a week.
          name: 'expire-ugc-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'ugc/'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 7
                }
              }
              snapshot: {
                delete: {
                  daysAfterCreationGreaterThan: 7
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Who read, wrote or deleted which blob, for the access-log promise of the security statement.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'blob-logs'
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
output id string = storage.id
// Without the trailing slash, as POPSELL_BLOB_ACCOUNT_URL expects an account URL.
output blobEndpoint string = 'https://${storage.name}.blob.${environment().suffixes.storage}'
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
