/** What `npm run handoff` prints: the report as a table for a person, or JSON. */
import type { HandoffReport } from "./run";

/** `--json`: one JSON document and a newline. */
export function renderJson(report: HandoffReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The table: a heading, one row per connector field, the endpoints, the steps and warnings. */
export function renderTable(report: HandoffReport): string {
  const rows = report.fields.map((field) => ({
    field: `${field.field}${field.key ? ` (${field.key})` : ""}${field.confirmed ? "" : " *"}`,
    value: field.value,
    note: field.note,
  }));
  const fieldWidth = Math.max(5, ...rows.map((row) => row.field.length));
  const valueWidth = Math.min(60, Math.max(5, ...rows.map((row) => row.value.length)));
  const lines = [
    `AuditBridge handoff to ${report.connector}`,
    `tenant ${report.tenantId}${report.clientId ? `, app ${report.clientId}` : ""}, cloud ${report.cloud}${report.stack ? `, stack ${report.stack}` : ""}`,
    "",
    `  ${"Field".padEnd(fieldWidth)}  ${"Value".padEnd(valueWidth)}  Note`,
  ];
  for (const row of rows) {
    lines.push(
      `  ${row.field.padEnd(fieldWidth)}  ${row.value.padEnd(valueWidth)}  ${row.note}`.trimEnd(),
    );
  }
  const e = report.endpoints;
  lines.push(
    "",
    `Endpoints (${report.cloud}):`,
    `  login host        ${e.authorityHost}`,
    `  token URL         ${e.tokenUrl}`,
    `  Management API    ${e.managementEndpoint}  (scope ${e.managementScope})`,
    `  Microsoft Graph   ${e.graphEndpoint}`,
    `Content types:      ${report.contentTypes.join(", ")}`,
    `PublisherIdentifier: ${report.publisherId}`,
  );
  if (report.notes.length > 0) {
    lines.push("", "Steps:");
    for (const note of report.notes) lines.push(`  - ${note}`);
  }
  if (report.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const warning of report.warnings) lines.push(`  ! ${warning}`);
  }
  lines.push("", `Sources: ${report.sources.join(" ")}`);
  return `${lines.join("\n")}\n`;
}
