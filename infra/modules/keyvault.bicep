// Key Vault: the app's secrets. The vault is created here; the secret values are set out of band
// (docs/deploy.md), so no secret ever sits in a template, a parameter file or a deployment history.

@description('Region of the vault.')
param location string

@description('Tags put on every resource.')
param tags object

@description('Key Vault name (3-24 characters).')
param name string

@description('Workspace that receives the vault audit log.')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  // checkov:skip=CKV_AZURE_109: Default network action stays Allow: the Flex Consumption app resolves its Key Vault references over the public endpoint (no VNet, no fixed outbound addresses); access is RBAC-only and audited.
  // checkov:skip=CKV_AZURE_189: Public network access stays on for the same reason as CKV_AZURE_109.
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC, not access policies: the same role model as every other resource here.
    enableRbacAuthorization: true
    // A deleted secret (a hash key!) can be recovered for 90 days, and nobody can purge it early:
    // losing the hash master key would make every stored hash unmatchable.
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Who read which secret, kept with the other logs for a year.
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'vault-audit'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
