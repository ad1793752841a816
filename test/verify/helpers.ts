import { ClientSecretCredential } from "@azure/identity";
import { LogsIngestionClient } from "@azure/monitor-ingestion";
import { scopeFor } from "../../domain/clouds";
import { CONTENT_TYPES } from "../../domain/contentTypes";
import type { AuditRow } from "../../domain/table";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/src/index";
import type { CheckResult, VerifyReport } from "../../scripts/common/output";
import type { CheckId } from "../../scripts/verify/checks/result";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";

/** A small, fast tenant: every content type has a few blobs in the last day. */
export function startSmallTenant(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    seed: 11,
    ...options,
    scenario: {
      historyHours: 12,
      blobsPerHour: 1,
      recordsPerBlob: [1, 2],
      duplicateRate: 0,
      lateRate: 0,
      ...options.scenario,
    },
  });
}

/** Flags pointing every endpoint at the emulator. */
export function emulatorFlags(emulator: Emulator, extra: string[] = []): string[] {
  return [
    "--tenant-id",
    emulator.tenant.tenantId,
    "--client-id",
    emulator.tenant.clientId,
    "--authority-host",
    emulator.url,
    "--management-endpoint",
    emulator.url,
    "--graph-endpoint",
    emulator.url,
    "--log-analytics-endpoint",
    emulator.url,
    "--workspace-id",
    emulator.ingestion.workspaceId,
    "--timeout",
    "20",
    ...extra,
  ];
}

/** A validated verify config for the emulator, with the app's secret (or another) in the env. */
export async function emulatorConfig(
  emulator: Emulator,
  extra: string[] = [],
  secret = emulator.tenant.clientSecret,
): Promise<VerifyConfig> {
  const config = await resolveVerifyConfig(emulatorFlags(emulator, extra), {
    AZURE_CLIENT_SECRET: secret,
  });
  if (config === "help") throw new Error("unexpected help");
  return config;
}

function appCredential(emulator: Emulator): ClientSecretCredential {
  return new ClientSecretCredential(
    emulator.tenant.tenantId,
    emulator.tenant.clientId,
    emulator.tenant.clientSecret,
    { authorityHost: emulator.url, disableInstanceDiscovery: true },
  );
}

/** Starts the subscriptions, as the collector's first run does. */
export async function startSubscriptions(
  emulator: Emulator,
  contentTypes: readonly string[] = CONTENT_TYPES,
): Promise<void> {
  const token = await appCredential(emulator).getToken(scopeFor("https://manage.office.com"));
  for (const contentType of contentTypes) {
    const url = `${emulator.url}/api/v1.0/${emulator.tenant.tenantId}/activity/feed/subscriptions/start?contentType=${contentType}&PublisherIdentifier=${emulator.tenant.tenantId}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token?.token}` },
    });
    if (!response.ok && response.status !== 400) {
      throw new Error(`start ${contentType}: HTTP ${response.status}`);
    }
  }
}

/** Synthetic rows for the given content types, ingested through the Logs Ingestion API. */
export async function ingestRows(
  emulator: Emulator,
  contentTypes: readonly string[] = CONTENT_TYPES,
  rowsPerType = 3,
): Promise<void> {
  const now = emulator.now();
  const rows: Record<string, unknown>[] = [];
  for (const contentType of contentTypes) {
    for (let i = 0; i < rowsPerType; i++) {
      const created = new Date(now - (i + 1) * 10 * 60_000).toISOString();
      const row: AuditRow = {
        TimeGenerated: created,
        RecordId: `00000000-0000-4000-8000-${String(rows.length).padStart(12, "0")}`,
        RecordType: 8,
        RecordTypeName: "AzureActiveDirectory",
        Operation: "UserLoggedIn",
        Workload: "AzureActiveDirectory",
        UserId: "user@example.test",
        UserKey: "10032000A1B2C3D4",
        UserType: 0,
        ClientIP: "192.0.2.10",
        ResultStatus: "Succeeded",
        ObjectId: "00000002-0000-0000-c000-000000000000",
        OrganizationId: emulator.tenant.tenantId,
        ContentType: contentType,
        ContentId: `synthetic$${contentType}$${i}`,
        ContentCreated: created,
        AuditData: { Id: "synthetic", Operation: "UserLoggedIn" },
      };
      rows.push({ ...row });
    }
  }
  const client = new LogsIngestionClient(emulator.url, appCredential(emulator));
  await client.upload(emulator.ingestion.ruleId, emulator.ingestion.stream, rows);
}

/** A tenant where the collector has subscribed and delivered rows. */
export async function startHealthyTenant(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startSmallTenant(options);
  await startSubscriptions(emulator);
  await ingestRows(emulator);
  return emulator;
}

/** One check of a report, by id; throws when the report lacks it. */
export function checkById(report: VerifyReport, id: CheckId): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}
