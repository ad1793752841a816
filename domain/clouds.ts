/**
 * Microsoft 365 cloud profiles: login host, Management Activity API host and token audiences.
 * Sources: https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#activity-api-operations
 * (API hosts per plan), https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud
 * (login hosts) and https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-create-trust
 * (token exchange audiences).
 */
export const CLOUD_NAMES = ["commercial", "gcc", "gcchigh", "dod"] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudProfile {
  name: CloudName;
  /** Entra ID authority host, e.g. https://login.microsoftonline.com */
  authorityHost: string;
  /** Management Activity API base, e.g. https://manage.office.com */
  managementEndpoint: string;
  /** Token audience for the Management Activity API (scope = audience + "/.default"). */
  managementAudience: string;
  /** Token audience for the Logs Ingestion API. */
  monitorAudience: string;
  /** Token audience for Log Analytics queries. */
  logAnalyticsAudience: string;
  /** Microsoft Graph base URL (also its token audience). */
  graphEndpoint: string;
  /** Audience a managed identity token must carry to be used as a federated credential. */
  tokenExchangeAudience: string;
  /**
   * Exchange Online's host (also the token audience of its admin endpoint), where the tenant's
   * unified audit log switch is read and set.
   * https://learn.microsoft.com/en-us/powershell/exchange/connect-to-exchange-online-powershell
   */
  exchangeEndpoint: string;
}

export const CLOUDS: Readonly<Record<CloudName, CloudProfile>> = Object.freeze({
  commercial: {
    name: "commercial",
    authorityHost: "https://login.microsoftonline.com",
    managementEndpoint: "https://manage.office.com",
    managementAudience: "https://manage.office.com",
    monitorAudience: "https://monitor.azure.com",
    logAnalyticsAudience: "https://api.loganalytics.io",
    graphEndpoint: "https://graph.microsoft.com",
    tokenExchangeAudience: "api://AzureADTokenExchange",
    exchangeEndpoint: "https://outlook.office365.com",
  },
  // GCC tenants sign in through the commercial authority but use their own API host.
  gcc: {
    name: "gcc",
    authorityHost: "https://login.microsoftonline.com",
    managementEndpoint: "https://manage-gcc.office.com",
    managementAudience: "https://manage-gcc.office.com",
    monitorAudience: "https://monitor.azure.com",
    logAnalyticsAudience: "https://api.loganalytics.io",
    graphEndpoint: "https://graph.microsoft.com",
    tokenExchangeAudience: "api://AzureADTokenExchange",
    exchangeEndpoint: "https://outlook.office365.com",
  },
  gcchigh: {
    name: "gcchigh",
    authorityHost: "https://login.microsoftonline.us",
    managementEndpoint: "https://manage.office365.us",
    managementAudience: "https://manage.office365.us",
    monitorAudience: "https://monitor.azure.us",
    logAnalyticsAudience: "https://api.loganalytics.us",
    graphEndpoint: "https://graph.microsoft.us",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
    exchangeEndpoint: "https://outlook.office365.us",
  },
  dod: {
    name: "dod",
    authorityHost: "https://login.microsoftonline.us",
    managementEndpoint: "https://manage.protection.apps.mil",
    managementAudience: "https://manage.protection.apps.mil",
    monitorAudience: "https://monitor.azure.us",
    logAnalyticsAudience: "https://api.loganalytics.us",
    graphEndpoint: "https://dod-graph.microsoft.us",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
    exchangeEndpoint: "https://outlook-dod.office365.us",
  },
});

/** Login hosts Microsoft operates; any other authority host disables MSAL instance discovery. */
export const MICROSOFT_AUTHORITY_HOSTS: readonly string[] = [
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
];

export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  try {
    return MICROSOFT_AUTHORITY_HOSTS.includes(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** `scope` string for a token audience. */
export function scopeFor(audience: string): string {
  return `${audience.replace(/\/+$/, "")}/.default`;
}

/**
 * Resource Manager endpoint per Microsoft 365 cloud: GCC High and DoD tenants usually pair with
 * Azure Government subscriptions (https://learn.microsoft.com/en-us/azure/azure-government/documentation-government-developer-guide).
 */
export const ARM_ENDPOINTS: Readonly<Record<CloudName, string>> = Object.freeze({
  commercial: "https://management.azure.com",
  gcc: "https://management.azure.com",
  gcchigh: "https://management.usgovcloudapi.net",
  dod: "https://management.usgovcloudapi.net",
});
