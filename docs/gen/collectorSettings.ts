/**
 * docs/collector-settings.md: every collector setting (variable, flag, default, secret, meaning),
 * rendered from the settings table (domain/collectorEnv.ts joined with collector/src/settings.ts),
 * the same table `--help` and the configuration loader read.
 */
import { SETTINGS } from "../../collector/src/settings";
import {
  APP_CREDENTIAL_KINDS,
  FLAG_FOR_ENV,
  flagSpelling,
  SETTING_GROUPS,
  type SettingGroup,
} from "../../domain/collectorEnv";

export const PAGE_PATH = "docs/collector-settings.md";

/** Escapes text for one Markdown table cell; `<…>` placeholders would read as HTML tags. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "\\<");
}

/** A Markdown table padded to its widest cells, the shape Markdown formatters keep. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(3, ...all.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (row: readonly string[]) =>
    `| ${row.map((text, column) => text + " ".repeat(widths[column]! - [...text].length)).join(" | ")} |`;
  return [line(header), line(widths.map((n) => "-".repeat(n))), ...rows.map(line)];
}

/** The page's whole text, ending in one newline. */
export function render(): string {
  const sections = (Object.keys(SETTING_GROUPS) as SettingGroup[]).flatMap((group) => [
    `## ${SETTING_GROUPS[group]}`,
    "",
    ...table(
      ["variable", "flag", "default", "secret", "meaning"],
      SETTINGS.filter((setting) => setting.group === group).map((setting) => {
        const flag = FLAG_FOR_ENV[setting.env];
        return [
          `\`${setting.env}\``,
          flag ? `\`${flagSpelling(flag)}\`` : "none",
          setting.shownDefault === undefined ? "" : cell(setting.shownDefault),
          setting.secret ? "yes" : "no",
          cell(setting.meaning),
        ];
      }),
    ),
    "",
  ]);
  const deployed = SETTINGS.filter((setting) => setting.setByDeployment !== "never").map(
    (setting) =>
      setting.setByDeployment === "always"
        ? `\`${setting.env}\``
        : (APP_CREDENTIAL_KINDS as readonly string[]).includes(setting.setByDeployment)
          ? `\`${setting.env}\` (${setting.setByDeployment} credential only)`
          : `\`${setting.env}\` (with the ${setting.setByDeployment} sink)`,
  );
  const lines = [
    "<!-- Generated from domain/collectorEnv.ts and collector/src/settings.ts by docs/gen/collectorSettings.ts. Do not edit: run `npm run docs`. -->",
    "",
    "# Collector settings",
    "",
    "Every setting of the collector is an environment variable. A flag of",
    "`npm run collector -- run` mirrors each one that is not a secret and wins over the",
    "environment; `npm run collector -- run --help` lists the same flags. Secrets are read from the",
    "environment only, so they never show in the process list, and the startup log line never",
    "prints them. A bad value stops the collector with exit code 2 and one line naming the setting",
    "and the fix.",
    "",
    "Durations are a whole number and one unit: `ms`, `s`, `m`, `h` or `d` (`90s`, `15m`, `2h`).",
    "",
    "Rules between settings: exactly one app credential (`AZURE_CLIENT_SECRET`,",
    "`AZURE_CLIENT_CERTIFICATE_PATH` or `AUDIT_FEDERATED_IDENTITY_CLIENT_ID`);",
    "`AZURE_CLIENT_CERTIFICATE_PASSWORD` only with a certificate; `AZURE_STORAGE_CONNECTION_STRING`",
    "only with blob state; the `logs-ingestion` sink needs `LOGS_INGESTION_ENDPOINT` and",
    "`LOGS_INGESTION_RULE_ID`.",
    "",
    ...sections,
    "## Set by the Azure deployment",
    "",
    "The Container App that `pulumi up` creates sets these; the others keep their defaults (or the",
    "container image's own value). A sink's variables are set when the stack's `sinks` names it,",
    "its optional files (CA, client certificate and key) and index only when the stack gives them",
    "([siem.md](siem.md#deploying-with-pulumi)):",
    "",
    ...deployed.map((entry) => `- ${entry}`),
  ];
  return `${lines.join("\n")}\n`;
}
