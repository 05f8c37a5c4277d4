// One Cosmos DB container with exactly the indexing policy the Cosmos adapter sets
// (shared/adapters/cosmos_store.py indexing_policy): only what queries use is indexed, so writes stay
// cheap. Included: `id`, `brandId`, the partition key, each declared field path, each text path and
// the elements of each array path; everything else
// ("/*") excluded. Composite indexes (path, id) ascending and descending, because every sorted query
// orders by (path, id) for stable keyset paging.

@description('Cosmos DB account name.')
param accountName string

@description('SQL database name.')
param databaseName string

@description('Container name (shared/store_schema.py).')
param name string

@description('Partition key path, e.g. /brandId.')
param partitionKeyPath string

@description('Declared field paths, dotted for nested fields (retention.dueAt).')
param indexedPaths array

@description('String fields searched by substring (CONTAINS reads their range index).')
param textPaths array

@description('Arrays of strings filtered by element (ARRAY_CONTAINS reads their elements\' index).')
param arrayPaths array

@description('Per-item TTL on: items carrying `ttl` expire, the others stay.')
param ttlEnabled bool

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' existing = {
  parent: account
  name: databaseName
}

var idAndBrand = [
  {
    path: '/id/?'
  }
  {
    path: '/brandId/?'
  }
]

var partitionKeyIncluded = [
  {
    path: '${partitionKeyPath}/?'
  }
]

// The partition key is brandId itself for brand-sized containers: listed once.
var alwaysIncluded = partitionKeyPath == '/brandId' ? idAndBrand : concat(idAndBrand, partitionKeyIncluded)

var declaredPaths = [
  for fieldPath in indexedPaths: {
    path: '/${replace(fieldPath, '.', '/')}/?'
  }
]

var textIncluded = [
  for fieldPath in textPaths: {
    path: '/${replace(fieldPath, '.', '/')}/?'
  }
]

var arrayIncluded = [
  for fieldPath in arrayPaths: {
    path: '/${replace(fieldPath, '.', '/')}/[]/?'
  }
]

var compositeAscending = [
  for fieldPath in indexedPaths: [
    {
      path: '/${replace(fieldPath, '.', '/')}'
      order: 'ascending'
    }
    {
      path: '/id'
      order: 'ascending'
    }
  ]
]

var compositeDescending = [
  for fieldPath in indexedPaths: [
    {
      path: '/${replace(fieldPath, '.', '/')}'
      order: 'descending'
    }
    {
      path: '/id'
      order: 'descending'
    }
  ]
]

var containerResource = {
  id: name
  partitionKey: {
    paths: [
      partitionKeyPath
    ]
    kind: 'Hash'
    version: 2
  }
  indexingPolicy: {
    indexingMode: 'consistent'
    automatic: true
    includedPaths: union(alwaysIncluded, declaredPaths, textIncluded, arrayIncluded)
    excludedPaths: [
      {
        path: '/*'
      }
    ]
    compositeIndexes: concat(compositeAscending, compositeDescending)
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: name
  properties: {
    // defaultTtl -1: TTL on, and an item expires only when it carries its own `ttl`.
    resource: union(containerResource, ttlEnabled ? { defaultTtl: -1 } : {})
  }
}
