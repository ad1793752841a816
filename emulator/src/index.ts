import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { ActivityFeed, type BlobTruth, DEFAULT_PAGE_SIZE } from "./activity";
import { registerArm } from "./arm";
import { ensureAppCertificate } from "./certificate";
import { registerEntra } from "./entra";
import { type ExchangeAdminKnobs, registerExchangeAdmin } from "./exchangeAdmin";
import { buildCatalogue, type ScenarioOptions as GeneratorScenario } from "./generator";
import { registerGraph } from "./graph";
import { registerGraphDirectory } from "./graphDirectory";
import { type RequestContext, Router, sendJson } from "./http";
import {
  EMULATED_STREAM,
  type IngestedRow,
  type IngestionTarget,
  registerIngestion,
} from "./ingestion";
import { TokenSigner } from "./jwt";
import { EMULATED_CLIENT_SECRET_NAME, registerKeyVault } from "./keyVault";
import { defaultKnobs, type Knobs, validateKnobs } from "./knobs";
import { defaultPreflightKnobs } from "./preflightKnobs";
import { registerQuery } from "./query";
import { seededGuid, seededSecret } from "./random";
import {
  defaultSplunkHecKnobs,
  registerSplunkHec,
  type SplunkHecKnobs,
  type SplunkHecReceiver,
} from "./splunkHec";
import {
  type EmulatorCounters,
  type EmulatorState,
  type ManagedIdentity,
  type TenantIdentity,
  zeroCounters,
} from "./state";
import { DEFAULT_TEST_CERT_DIR, ensureTestCertificates } from "./tls";

export type { BlobTruth } from "./activity";
export type { AppCertificate } from "./certificate";
export type { ContainerAppJobKnob, JobExecutionKnob } from "./containerAppJobs";
export type { ExchangeAdminKnobs } from "./exchangeAdmin";
export type { IngestedRow } from "./ingestion";
export { EMULATED_CLIENT_SECRET_NAME, EMULATED_VAULT_NAME } from "./keyVault";
export type { EmulatedSecret, KeyVaultKnobs, Knobs } from "./knobs";
export {
  DEFAULT_TOKEN_BUCKET_CAPACITY,
  MANAGEMENT_ROLES,
  THROTTLE_MODELS,
  type ThrottleKnob,
  type ThrottleModel,
} from "./knobs";
export type {
  ArmPermission,
  ArmResource,
  DeletedVault,
  PreflightKnobs,
} from "./preflightKnobs";
export { emulatedSubscriptionId, emulatedUser } from "./preflightKnobs";
export { knobFires } from "./random";
export type { HecEvent, SplunkHecKnobs, SplunkHecReceiver } from "./splunkHec";
export type { EmulatorCounters, ManagedIdentity, TenantIdentity } from "./state";

/** How often the emulator checks for new blobs to notify webhooks about. */
const NOTIFICATION_INTERVAL_MS = 1_000;

/** Scenario of the emulated tenant: the generator's options plus the listing page size. */
export interface ScenarioOptions extends GeneratorScenario {
  /** Blobs per `/subscriptions/content` page before NextPageUri (default 50). */
  pageSize: number;
}

export interface EmulatorOptions {
  /** Interface to listen on; default "127.0.0.1". */
  host?: string;
  /** Port; default 0 = a random free port. */
  port?: number;
  /** Where the CA and server certificate live; default DEFAULT_TEST_CERT_DIR. */
  certDir?: string;
  /** Same seed, same tenant ids, blobs and records; default 1. */
  seed?: number;
  scenario?: Partial<ScenarioOptions>;
  knobs?: Partial<Knobs>;
  /** The emulator's clock (epoch ms); default Date.now. knobs.clockOffsetMs is added to it. */
  nowMs?: () => number;
  /** Splunk HTTP Event Collector behaviour (token state, ack, indexes, busy/outage). */
  splunkHec?: Partial<SplunkHecKnobs>;
}

/** One request as the emulator answered it. */
export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string (without `?`), for checking parameters such as PublisherIdentifier. */
  query: string;
  status: number;
  /** AF code, AADSTS code or other error code of the answer; undefined on success. */
  code?: string;
  /** Emulator clock when the request arrived. */
  atMs: number;
}

/** What the emulator knows to be true, for asserting that a collector delivered exactly it. */
export interface GroundTruth {
  /**
   * Unique record Ids in blobs that are listable and retrievable now (malformed blobs excluded),
   * or at `asOfMs` on the emulator's clock: what a collector that started then must deliver.
   */
  expectedRecordIds(contentTypes?: readonly string[], asOfMs?: number): Set<string>;
  /** Metadata of the blobs listable now, or at `asOfMs` on the emulator's clock. */
  listedBlobs(contentType?: string, asOfMs?: number): BlobTruth[];
  /** Rows received by Logs Ingestion, in arrival order. */
  ingestedRows(): readonly IngestedRow[];
  /** Every request, in arrival order of completion. */
  requestLog(): readonly RequestLogEntry[];
  /** Live counters. */
  readonly counters: Readonly<EmulatorCounters>;
}

/** The emulated tenant's identities plus the app's certificate credential. */
export interface EmulatedTenant extends TenantIdentity {
  /**
   * PEM file with the app's certificate and private key, registered on the app: point
   * AZURE_CLIENT_CERTIFICATE_PATH (collector) or `--certificate-path` (verify) at it.
   */
  certificatePath: string;
  /** SHA-1 thumbprint of that certificate, upper-case hex (Graph's customKeyIdentifier). */
  certificateThumbprint: string;
}

/** A running emulator. */
export interface Emulator {
  /** "https://127.0.0.1:PORT"; serves every endpoint on this one origin. */
  url: string;
  /** PEM file of the CA that signed the server certificate (NODE_EXTRA_CA_CERTS). */
  caCertPath: string;
  tenant: EmulatedTenant;
  /** Managed identity trusted by the app as a federated credential (keyless tests). */
  managedIdentity: ManagedIdentity;
  ingestion: IngestionTarget;
  /** Mutable while running; changes apply to the next request. */
  knobs: Knobs;
  /**
   * The Exchange Online organisation behind the admin endpoint (the audit log switch); mutable
   * while running, like `knobs`.
   */
  exchangeAdmin: ExchangeAdminKnobs;
  /**
   * Splunk HTTP Event Collector on the same origin (`/services/collector/...`): its token,
   * knobs (mutable while running), the events it indexed and a restart.
   */
  splunkHec: SplunkHecReceiver;
  /** Cmdlets the Exchange admin endpoint ran, in order, with the anchor mailbox sent. */
  exchangeCalls(): readonly { cmdlet: string; anchorMailbox: string | undefined }[];
  truth: GroundTruth;
  /** The resolved scenario and seed. */
  scenario: Readonly<ScenarioOptions>;
  seed: number;
  /** The emulator's clock (epoch ms), including knobs.clockOffsetMs. */
  now(): number;
  /** Queues and delivers webhook notifications for blobs available by now, and waits for them. */
  flushNotifications(): Promise<void>;
  /**
   * Renders every blob listable now into memory ahead of time (benchmarks): serving then costs
   * only TLS and the socket. Returns how many blobs are held and their bytes.
   */
  prerenderBlobs(): { blobs: number; bytes: number };
  stop(): Promise<void>;
}

/**
 * The collector's connection settings (its configuration contract) for this emulator: CA,
 * tenant, app credential, login host, API base URL, PublisherIdentifier and the Logs Ingestion
 * target. Used by `npm start`, the benchmarks, the tests and the emulator command; callers add
 * state, sink and the rest. Holds the client secret: never log it.
 */
export function collectorConnectionEnv(emulator: Emulator): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    AZURE_TENANT_ID: emulator.tenant.tenantId,
    AZURE_CLIENT_ID: emulator.tenant.clientId,
    AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
    AZURE_AUTHORITY_HOST: emulator.url,
    O365_MANAGEMENT_ENDPOINT: emulator.url,
    O365_PUBLISHER_ID: emulator.tenant.publisherId,
    LOGS_INGESTION_ENDPOINT: emulator.url,
    LOGS_INGESTION_RULE_ID: emulator.ingestion.ruleId,
    LOGS_INGESTION_STREAM: emulator.ingestion.stream,
  };
}

/** Tenant identities derived from the seed (the tenant id from the scenario when given). */
export function tenantIdentity(seed: number, tenantId?: string): TenantIdentity {
  return {
    tenantId: (tenantId ?? seededGuid(seed, "tenant")).toLowerCase(),
    clientId: seededGuid(seed, "client"),
    clientSecret: seededSecret(seed, "client"),
    publisherId: seededGuid(seed, "publisher"),
    applicationObjectId: seededGuid(seed, "application-object"),
    servicePrincipalObjectId: seededGuid(seed, "service-principal-object"),
  };
}

/**
 * Starts the emulator: one HTTPS server playing Entra ID, the Management Activity API, Logs
 * Ingestion, the Log Analytics query API and a few Graph calls for one seeded tenant.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const clock = options.nowMs ?? Date.now;
  const { pageSize = DEFAULT_PAGE_SIZE, ...generatorScenario } = options.scenario ?? {};
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 10_000)) {
    throw new Error(
      `scenario.pageSize must be a whole number between 1 and 10000, got ${pageSize}`,
    );
  }
  const startMs = clock() + (options.knobs?.clockOffsetMs ?? 0);
  const knobs: Knobs = { ...defaultKnobs(startMs), ...options.knobs };
  // A partial preflight object (e.g. from `--knobs` JSON) keeps the other defaults.
  knobs.preflight = { ...defaultPreflightKnobs(), ...options.knobs?.preflight };
  const tenant = tenantIdentity(seed, generatorScenario.tenantId);
  // The vault holds the tenant app's client secret unless the caller lists its own secrets.
  knobs.keyVault = {
    forbidden: options.knobs?.keyVault?.forbidden ?? false,
    secrets: options.knobs?.keyVault?.secrets ?? {
      [EMULATED_CLIENT_SECRET_NAME]: {
        value: tenant.clientSecret,
        contentType: "text/plain",
        expiresAtMs: knobs.secretExpiresAtMs,
      },
    },
  };
  validateKnobs(knobs);

  const catalogue = buildCatalogue(
    { ...generatorScenario, tenantId: tenant.tenantId },
    seed,
    startMs,
  );
  const scenario: ScenarioOptions = Object.freeze({ ...catalogue.scenario, pageSize });

  const certDir = options.certDir ?? DEFAULT_TEST_CERT_DIR;
  const certs = await ensureTestCertificates(certDir);
  const appCertificate = await ensureAppCertificate(certDir);
  const caPem = await readFile(certs.caCertPath, "utf8");

  const counters = zeroCounters();
  const managedIdentity: ManagedIdentity = {
    clientId: seededGuid(seed, "managed-identity-client"),
    principalId: seededGuid(seed, "managed-identity-principal"),
    endpoint: "",
    identityHeader: seededGuid(seed, "identity-header").replace(/-/g, ""),
  };
  const state: EmulatorState = {
    seed,
    url: "",
    tenant,
    managedIdentity,
    knobs,
    certificates: [appCertificate],
    signer: new TokenSigner(),
    counters,
    now: () => clock() + knobs.clockOffsetMs,
  };
  const ingestion: IngestionTarget = {
    ruleId: `dcr-${seededGuid(seed, "dcr").replace(/-/g, "")}`,
    stream: EMULATED_STREAM,
    workspaceId: seededGuid(seed, "workspace"),
  };
  const ingestedRows: IngestedRow[] = [];
  const requestLog: RequestLogEntry[] = [];

  const router = new Router();
  const feed = new ActivityFeed(state, catalogue, pageSize, caPem);
  registerEntra(router, state);
  feed.register(router);
  registerIngestion(router, state, ingestion, ingestedRows);
  registerQuery(router, state, ingestion, ingestedRows);
  registerGraph(router, state);
  registerArm(router, state);
  registerGraphDirectory(router, state);
  registerKeyVault(router, state);
  const exchange = registerExchangeAdmin(router, state);
  const splunkHec = registerSplunkHec(router, seededGuid(seed, "splunk-hec-token"), state.now, {
    ...defaultSplunkHecKnobs(),
    ...options.splunkHec,
  });

  const server: Server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    counters.requests++;
    exchange.tick();
    const atMs = state.now();
    // The Date header comes from the emulator's clock (with knobs.clockOffsetMs), so a client's
    // clock-skew handling can be tested against it.
    res.sendDate = false;
    res.setHeader("Date", new Date(atMs).toUTCString());
    const url = new URL(req.url ?? "/", state.url);
    const ctx: RequestContext = { req, res, method: req.method ?? "GET", url, params: {} };
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      requestLog.push({
        method: ctx.method,
        path: url.pathname,
        query: url.search.replace(/^\?/, ""),
        status: res.statusCode,
        code: ctx.code,
        atMs,
      });
    };
    res.on("finish", log);
    res.on("close", log);
    const match = router.match(ctx.method, url.pathname);
    if (match === undefined) {
      req.resume();
      return sendJson(ctx, 404, {
        error: { code: "NotFound", message: `No emulated endpoint at ${url.pathname}.` },
      });
    }
    if (match === "method") {
      req.resume();
      return sendJson(ctx, 405, {
        error: {
          code: "MethodNotAllowed",
          message: `${ctx.method} is not allowed on ${url.pathname}.`,
        },
      });
    }
    ctx.params = match.params;
    Promise.resolve()
      .then(() => match.handler(ctx))
      .catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendJson(ctx, 500, {
          error: {
            code: "EmulatorError",
            message: `The emulator failed: ${(error as Error).message}`,
          },
        });
      });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  state.url = `https://${host}:${address.port}`;
  managedIdentity.endpoint = `${state.url}/msi/token`;

  const timer = setInterval(() => {
    feed.pumpNotifications().catch(() => undefined);
  }, NOTIFICATION_INTERVAL_MS);
  timer.unref();

  const truth: GroundTruth = {
    expectedRecordIds: (contentTypes, asOfMs) => feed.expectedRecordIds(contentTypes, asOfMs),
    listedBlobs: (contentType, asOfMs) => feed.listedBlobs(contentType, asOfMs),
    ingestedRows: () => ingestedRows,
    requestLog: () => requestLog,
    counters,
  };

  let stopped: Promise<void> | undefined;
  return {
    url: state.url,
    caCertPath: certs.caCertPath,
    tenant: {
      ...tenant,
      certificatePath: appCertificate.path,
      certificateThumbprint: appCertificate.thumbprint,
    },
    managedIdentity,
    ingestion,
    knobs,
    exchangeAdmin: exchange.knobs,
    splunkHec,
    exchangeCalls: () => exchange.calls,
    truth,
    scenario,
    seed,
    now: state.now,
    flushNotifications: () => feed.pumpNotifications(),
    prerenderBlobs: () => feed.prerenderBlobs(),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
