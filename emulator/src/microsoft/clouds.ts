/**
 * Microsoft 365 and Azure cloud hosts and token audiences, written down from Microsoft's
 * documentation for the emulator. The emulator accepts every cloud's audience, so one emulator
 * stands in for any cloud profile a collector is configured with. A contract test compares this
 * copy with the one AuditBridge uses; the emulator itself never reads AuditBridge's.
 */

/** The clouds the emulator can stand in for. */
export const EMULATED_CLOUD_NAMES = ["commercial", "gcc", "gcchigh", "dod"] as const;
/** One of {@link EMULATED_CLOUD_NAMES}. */
export type EmulatedCloudName = (typeof EMULATED_CLOUD_NAMES)[number];

/** Hosts and token audiences of one cloud, as Microsoft documents them. */
export interface EmulatedCloud {
  /** Entra ID authority host. */
  authorityHost: string;
  /** Management Activity API base URL; also its token audience. */
  managementEndpoint: string;
  /** Token audience of the Logs Ingestion API. */
  monitorAudience: string;
  /** Token audience of the Log Analytics query API. */
  logAnalyticsAudience: string;
  /** Microsoft Graph base URL; also its token audience. */
  graphEndpoint: string;
  /** Audience of a managed identity token used as a federated credential. */
  tokenExchangeAudience: string;
  /**
   * Exchange Online's host: base URL and token audience of its admin endpoint.
   * https://learn.microsoft.com/en-us/powershell/exchange/connect-to-exchange-online-powershell
   */
  exchangeEndpoint: string;
}

/**
 * Sources, one per field:
 * - Management Activity API hosts per plan (Enterprise, GCC, GCC High, DoD) and the
 *   `resource`/audience they are called with:
 *   https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#activity-api-operations
 *   and https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 * - Authority hosts and the Azure Government `.us` service hosts:
 *   https://learn.microsoft.com/en-us/azure/azure-government/compare-azure-government-global-azure
 * - Logs Ingestion audience (`https://monitor.azure.com/.default`, sovereign clouds `.us`):
 *   https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview
 * - Log Analytics query audience: https://learn.microsoft.com/en-us/azure/azure-monitor/logs/api/access-api
 * - Graph national cloud endpoints: https://learn.microsoft.com/en-us/graph/deployments
 * - Token exchange audiences (`api://AzureADTokenExchange`, US Gov `…USGov`):
 *   https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 */
export const EMULATED_CLOUDS: Readonly<Record<EmulatedCloudName, EmulatedCloud>> = Object.freeze({
  commercial: {
    authorityHost: "https://login.microsoftonline.com",
    managementEndpoint: "https://manage.office.com",
    monitorAudience: "https://monitor.azure.com",
    logAnalyticsAudience: "https://api.loganalytics.io",
    graphEndpoint: "https://graph.microsoft.com",
    tokenExchangeAudience: "api://AzureADTokenExchange",
    exchangeEndpoint: "https://outlook.office365.com",
  },
  // GCC is a Microsoft 365 plan in the commercial Azure cloud: only its API host differs.
  gcc: {
    authorityHost: "https://login.microsoftonline.com",
    managementEndpoint: "https://manage-gcc.office.com",
    monitorAudience: "https://monitor.azure.com",
    logAnalyticsAudience: "https://api.loganalytics.io",
    graphEndpoint: "https://graph.microsoft.com",
    tokenExchangeAudience: "api://AzureADTokenExchange",
    exchangeEndpoint: "https://outlook.office365.com",
  },
  gcchigh: {
    authorityHost: "https://login.microsoftonline.us",
    managementEndpoint: "https://manage.office365.us",
    monitorAudience: "https://monitor.azure.us",
    logAnalyticsAudience: "https://api.loganalytics.us",
    graphEndpoint: "https://graph.microsoft.us",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
    exchangeEndpoint: "https://outlook.office365.us",
  },
  dod: {
    authorityHost: "https://login.microsoftonline.us",
    managementEndpoint: "https://manage.protection.apps.mil",
    monitorAudience: "https://monitor.azure.us",
    logAnalyticsAudience: "https://api.loganalytics.us",
    graphEndpoint: "https://dod-graph.microsoft.us",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
    exchangeEndpoint: "https://outlook-dod.office365.us",
  },
});

/**
 * Logs Ingestion audience of Azure operated by 21Vianet. AuditBridge does not support that cloud
 * (its Management Activity API host is not documented), but the ingestion side is, so the
 * emulator accepts it: https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview
 */
export const CHINA_MONITOR_AUDIENCE = "https://monitor.azure.cn";
