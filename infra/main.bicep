// Popsell Functions: the whole deployment, for `azd up` (azure.yaml). EU regions only.
// Creates the resource group and, in it: monitoring, storage, backup storage, Cosmos DB, Service Bus,
// Key Vault, the function app, the identity's data-plane roles, and last the app settings.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name (e.g. popsell-prod): names the resource group, tags every resource.')
param environmentName string

// EU regions only (DESIGN.md §3). Cosmos DB always uses West Europe then North Europe (cosmos.bicep);
// this is where everything else goes. Only EU regions with availability zones and an EU paired region
// are listed: storage is geo-zone-redundant (GZRS) and the plan zone-redundant. Check Flex Consumption
// is offered there before choosing another one: `az functionapp list-flexconsumption-locations`.
@description('Region of the resource group and of every resource but Cosmos DB.')
@allowed([
  'westeurope'
  'northeurope'
  'francecentral'
  'germanywestcentral'
  'swedencentral'
])
param location string = 'westeurope'

@description('Object id of the person or pipeline running azd (AZURE_PRINCIPAL_ID): may set the Key Vault secrets. Empty: nobody is granted that here.')
param principalId string = ''

@description('Kind of principal principalId is.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Cosmos DB public network access. Disabled needs private endpoints, which this template does not create.')
@allowed([
  'Enabled'
  'Disabled'
])
param cosmosPublicNetworkAccess string = 'Enabled'

@description('Autoscale ceiling (RU/s) of the Cosmos database, shared by its containers.')
@minValue(1000)
param cosmosMaxThroughput int = 1000

@description('Upper bound of the function app scale-out.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Unlocked: the template writes the backup containers\' immutability policies. Locked: they were locked by hand (docs/deploy.md "Backups") and the template leaves them alone.')
@allowed([
  'Unlocked'
  'Locked'
])
param backupImmutability string = 'Unlocked'

@description('Public base URL of the API (tracking links, email links). Empty: the app default host name.')
param publicBaseUrl string = ''

@description('Privacy policy linked from every email.')
param privacyPolicyUrl string = 'https://www.popsell.com/privacy'

@description('Sender address of the emails; its domain must be validated at Mailjet.')
param mailFromEmail string = 'no-reply@popsell.com'

var tags = {
  'azd-env-name': environmentName
  application: 'popsell-functions'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var functionAppName = 'func-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var deploymentContainerName = 'app-package'

// Secret names in the vault; docs/deploy.md tells how to set them. The app reads them through Key
// Vault references, so a rotated secret reaches the app at its next restart.
var secretNames = {
  hashMasterKey: 'hash-master-key'
  tokenSigningKeys: 'token-signing-keys'
  mailjetApiKey: 'mailjet-api-key'
  mailjetApiSecret: 'mailjet-api-secret'
  vapidPrivateKey: 'vapid-private-key'
}

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'st${resourceToken}'
    deploymentContainerName: deploymentContainerName
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

// The store's hourly and monthly snapshots, immutable (docs/decisions/0027-backups.md).
module backupStorage 'modules/backup-storage.bicep' = {
  name: 'backup-storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'stbk${resourceToken}'
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    immutability: backupImmutability
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    tags: tags
    name: 'cosmos-${resourceToken}'
    publicNetworkAccess: cosmosPublicNetworkAccess
    maxThroughput: cosmosMaxThroughput
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'sb-${resourceToken}'
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    location: location
    tags: tags
    name: keyVaultName
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    name: functionAppName
    planName: 'plan-${resourceToken}'
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    maximumInstanceCount: maximumInstanceCount
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    appPrincipalId: functionApp.outputs.principalId
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
    cosmosAccountName: cosmos.outputs.name
    serviceBusName: serviceBus.outputs.name
    storageAccountName: storage.outputs.name
    backupStorageAccountName: backupStorage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

// Realtime pushes (docs/realtime.md): Web PubSub, the app's identity its Service Owner.
module webPubSub 'modules/webpubsub.bicep' = {
  name: 'webpubsub'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'wps-${resourceToken}'
    hubName: 'popsell'
    appPrincipalId: functionApp.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

// Every setting the app reads in production (shared/config.py, POPSELL_*), plus the host's own.
module appSettings 'modules/appsettings.bicep' = {
  name: 'appsettings'
  scope: rg
  // After the roles: the first start resolves the Key Vault references and reaches storage.
  dependsOn: [
    roles
    webPubSub
  ]
  params: {
    appName: functionApp.outputs.name
    settings: {
      // Functions host storage and telemetry, by identity.
      AzureWebJobsStorage__accountName: storage.outputs.name
      AzureWebJobsStorage__credential: 'managedidentity'
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
      // The Service Bus trigger's connection "ServiceBusConnection", by identity.
      ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
      POPSELL_ENV: 'production'
      POPSELL_LOG_LEVEL: 'INFO'
      POPSELL_DEV_ENDPOINTS: 'false'
      POPSELL_DEMO_BRAND: 'false'
      POPSELL_PUBLIC_BASE_URL: empty(publicBaseUrl) ? 'https://${functionApp.outputs.defaultHostName}' : publicBaseUrl
      POPSELL_PRIVACY_POLICY_URL: privacyPolicyUrl
      POPSELL_STORE: 'cosmos'
      POPSELL_BUS: 'servicebus'
      POPSELL_BLOBS: 'azure'
      POPSELL_MAILER: 'mailjet'
      POPSELL_REALTIME: 'webpubsub'
      POPSELL_WEBPUBSUB_ENDPOINT: webPubSub.outputs.endpoint
      POPSELL_WEBPUBSUB_HUB: webPubSub.outputs.hubName
      POPSELL_NOTIFIER: 'webpush'
      POPSELL_COSMOS_ENDPOINT: cosmos.outputs.endpoint
      POPSELL_COSMOS_DATABASE: cosmos.outputs.databaseName
      POPSELL_COSMOS_REGIONS: cosmos.outputs.regions
      POPSELL_SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
      POPSELL_MAX_DELIVERY_COUNT: '10'
      // Azure's front end appends the client's address to X-Forwarded-For; 2 behind Azure Front Door.
      POPSELL_TRUSTED_PROXY_HOPS: '1'
      POPSELL_BLOB_ACCOUNT_URL: storage.outputs.blobEndpoint
      POPSELL_BACKUP_BLOB_ACCOUNT_URL: backupStorage.outputs.blobEndpoint
      POPSELL_MAIL_FROM_EMAIL: mailFromEmail
      POPSELL_HASH_MASTER_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.hashMasterKey})'
      POPSELL_TOKEN_SIGNING_KEYS: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.tokenSigningKeys})'
      POPSELL_MAILJET_API_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.mailjetApiKey})'
      POPSELL_MAILJET_API_SECRET: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.mailjetApiSecret})'
      POPSELL_VAPID_PRIVATE_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.vapidPrivateKey})'
    }
  }
}

// Read by azd (written to .azure/<env>/.env) and by docs/deploy.md's commands.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_COSMOS_DATABASE string = cosmos.outputs.databaseName
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_BACKUP_STORAGE_ACCOUNT_NAME string = backupStorage.outputs.name
output AZURE_WEBPUBSUB_ENDPOINT string = webPubSub.outputs.endpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
