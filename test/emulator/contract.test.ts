/**
 * The contract between the test double and the code it tests. The emulator writes Microsoft's
 * facts down from Microsoft's documentation (emulator/src/microsoft/); AuditBridge keeps its own in
 * domain/. This is the only file that imports both: if either copy drifts by one character, the
 * string or array comparisons below differ and the test fails, instead of a wrong value being
 * served back to the code that made the mistake.
 */
import { describe, expect, it } from "vitest";
import {
  API_HISTORY_IN_MS,
  API_REQUESTS_PER_MINUTE_LIMIT,
  MAX_WINDOW_IN_MS,
} from "../../domain/apiLimits";
import { CLOUD_NAMES, CLOUDS } from "../../domain/clouds";
import { CONTENT_TYPES as DOMAIN_CONTENT_TYPES } from "../../domain/contentTypes";
import { RECORD_TYPE_NAMES } from "../../domain/records";
import {
  DEFAULT_STREAM_NAME,
  DEFAULT_TABLE_NAME,
  streamColumnType,
  TABLE_COLUMNS,
} from "../../domain/table";
import {
  EXCHANGE_AUDIENCES,
  GRAPH_AUDIENCES,
  LOG_ANALYTICS_AUDIENCES,
  MANAGEMENT_AUDIENCES,
  MONITOR_AUDIENCES,
  TOKEN_EXCHANGE_AUDIENCES,
} from "../../emulator/src/audiences";
import {
  MAX_LOOKBACK_MS,
  MAX_WINDOW_MS,
  REQUESTS_PER_MINUTE_PER_TENANT,
} from "../../emulator/src/microsoft/activityApi";
import { EMULATED_CLOUD_NAMES, EMULATED_CLOUDS } from "../../emulator/src/microsoft/clouds";
import { CONTENT_TYPES } from "../../emulator/src/microsoft/contentTypes";
import {
  EMULATED_STREAM_NAME,
  EMULATED_TABLE_COLUMNS,
  EMULATED_TABLE_NAME,
} from "../../emulator/src/microsoft/logsIngestion";
import { RECORD_TYPES } from "../../emulator/src/microsoft/recordTypes";

describe("the emulator's Microsoft facts and AuditBridge's domain module", () => {
  it("name the same five content types, spelt and ordered alike", () => {
    expect([...CONTENT_TYPES]).toEqual([...DOMAIN_CONTENT_TYPES]);
  });

  it("know the same clouds with the same hosts and token audiences", () => {
    expect([...EMULATED_CLOUD_NAMES]).toEqual([...CLOUD_NAMES]);
    for (const name of CLOUD_NAMES) {
      const domain = CLOUDS[name];
      const emulated = EMULATED_CLOUDS[name];
      expect({ cloud: name, ...emulated }).toEqual({
        cloud: name,
        authorityHost: domain.authorityHost,
        managementEndpoint: domain.managementEndpoint,
        monitorAudience: domain.monitorAudience,
        logAnalyticsAudience: domain.logAnalyticsAudience,
        graphEndpoint: domain.graphEndpoint,
        tokenExchangeAudience: domain.tokenExchangeAudience,
        exchangeEndpoint: domain.exchangeEndpoint,
      });
      // The Management Activity API is called with its own base URL as the audience.
      expect(domain.managementAudience).toBe(emulated.managementEndpoint);
    }
  });

  it("accept, at each emulated API, the token audience AuditBridge asks for in every cloud", () => {
    for (const name of CLOUD_NAMES) {
      const domain = CLOUDS[name];
      expect(MANAGEMENT_AUDIENCES.has(domain.managementAudience), name).toBe(true);
      expect(MONITOR_AUDIENCES.has(domain.monitorAudience), name).toBe(true);
      expect(LOG_ANALYTICS_AUDIENCES.has(domain.logAnalyticsAudience), name).toBe(true);
      expect(GRAPH_AUDIENCES.has(domain.graphEndpoint), name).toBe(true);
      expect(TOKEN_EXCHANGE_AUDIENCES.has(domain.tokenExchangeAudience), name).toBe(true);
      expect(EXCHANGE_AUDIENCES.has(domain.exchangeEndpoint), name).toBe(true);
    }
  });

  it("declare the same table and stream names", () => {
    expect(EMULATED_TABLE_NAME).toBe(DEFAULT_TABLE_NAME);
    expect(EMULATED_STREAM_NAME).toBe(DEFAULT_STREAM_NAME);
  });

  it("declare the same table columns, by name and type, in the same order", () => {
    const emulated = EMULATED_TABLE_COLUMNS.map(({ name, type }) => ({ name, type }));
    const domain = TABLE_COLUMNS.map(({ name, type }) => ({ name, type }));
    // Case-sensitive: a table declares `dateTime`; `datetime` there would be a different string.
    expect(emulated).toEqual(domain);
  });

  it("agree that the DCR stream declaration writes the table's dateTime as datetime", () => {
    const emulatedStreamTypes = EMULATED_TABLE_COLUMNS.map(({ type }) =>
      type === "dateTime" ? "datetime" : type,
    );
    expect(TABLE_COLUMNS.map(({ type }) => streamColumnType(type))).toEqual(emulatedStreamTypes);
    expect(emulatedStreamTypes).toContain("datetime");
    expect(emulatedStreamTypes).not.toContain("dateTime");
  });

  it("name the record types the generator emits as the domain module does, where both name them", () => {
    const emitted = Object.entries(RECORD_TYPES);
    const known = emitted.filter(([, value]) => RECORD_TYPE_NAMES[value] !== undefined);
    // AuditBridge names a common subset and tolerates the rest, so only shared values are compared;
    // today that is every type the generator writes.
    expect(known.length).toBeGreaterThan(0);
    expect(known.map(([, value]) => [value, RECORD_TYPE_NAMES[value]])).toEqual(
      known.map(([name, value]) => [value, name]),
    );
  });

  it("apply the same listing limits: 7 days back, windows of at most 24 hours", () => {
    expect(MAX_LOOKBACK_MS).toBe(API_HISTORY_IN_MS);
    expect(MAX_WINDOW_MS).toBe(MAX_WINDOW_IN_MS);
  });

  it("apply the same request limit: 2,000 a minute before AF429", () => {
    expect(REQUESTS_PER_MINUTE_PER_TENANT).toBe(API_REQUESTS_PER_MINUTE_LIMIT);
  });
});
