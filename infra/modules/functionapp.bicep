// The function app on a Flex Consumption plan (Linux, Python 3.11), with a system-assigned identity.
// Its app settings are applied by appsettings.bicep, after the identity holds its roles.

@description('Region of the plan and the app.')
param location string

@description('Tags put on every resource; the app also gets azd-service-name.')
param tags object

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('URL of the blob container that receives the app package.')
param deploymentContainerUrl string

@description('Upper bound of scale-out, a cap on cost and on the load put on Cosmos DB.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Flex Consumption runs on Linux only.
    reserved: true
    // Instances spread over the region's availability zones; no extra cost on Flex Consumption.
    zoneRedundant: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the app to deploy the `api` service to by this tag (azure.yaml).
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  // checkov:skip=CKV_AZURE_222: Public network access stays on: the API serves browsers on brand sites, brand platforms and the email provider over the internet.
  // checkov:skip=CKV_AZURE_17: No client certificates: browsers and brand platforms call the API; brand platforms sign their requests (HMAC or brand-signed JWT) instead.
  // checkov:skip=CKV_AZURE_212: numberOfWorkers does not apply to Flex Consumption: the platform scales instances per function (maximumInstanceCount below) and the plan is zone-redundant.
  // checkov:skip=CKV_AZURE_213: The platform health check is not supported on Flex Consumption; the API's own health route serves external probes.
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          // No storage key: the app reads its package with its own identity (Storage Blob Data Owner).
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // No platform CORS: the app answers CORS itself, per brand (widget routes), and a platform
      // rule would override it.
    }
  }
}

// No publishing with user names and passwords: azd deploys with an Entra ID token.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName
