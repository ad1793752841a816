/**
 * AuditLoggingSwitch: turns the Microsoft 365 tenant's unified audit logging on as part of
 * `pulumi up` (stack option `enableAuditLogging`), and never off.
 *
 * A Pulumi dynamic resource: its provider's create and update run `audit-logging enable`'s logic
 * (scripts/audit-logging/deploy.ts) with the deployer's own credential, DefaultAzureCredential
 * (`az login`, or AZURE_CLIENT_ID with a secret, certificate or OIDC token in the environment,
 * as in CI), which needs the Exchange "Audit Logs" role. Its delete does nothing: destroying the
 * pipeline must never turn a tenant's auditing off, since other tools and retention policies
 * depend on it.
 * https://learn.microsoft.com/en-us/purview/audit-log-enable-disable
 * https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDS, type CloudName } from "../domain/clouds";
import { guidProblem } from "../domain/validators";
import type { DeployEnableOptions } from "../scripts/audit-logging/deploy";

/** The module the provider loads at deploy time, beside this file's form (.ts or .js). */
const ENABLE_MODULE = path.join(
  __dirname,
  "..",
  "scripts",
  "audit-logging",
  `deploy${path.extname(__filename)}`,
);
/**
 * tsx's CommonJS loader, when the program runs from TypeScript sources: the provider runs in
 * Pulumi's dynamic-provider host, which has no TypeScript loader of its own.
 */
const TSX_LOADER = path.extname(__filename) === ".ts" ? require.resolve("tsx/cjs/api") : "";

/** The switch's inputs, as the provider receives them. */
export interface AuditLoggingSwitchInputs {
  tenantId: string;
  cloud: CloudName;
  /** Exchange Online's admin endpoint (the cloud's unless overridden). */
  exchangeEndpoint: string;
  /** Entra ID login host override; empty: AZURE_AUTHORITY_HOST, else the cloud's. */
  authorityHost: string;
}

/** What the provider records after turning the switch on. */
export interface AuditLoggingSwitchOutputs extends AuditLoggingSwitchInputs {
  /** Whether this deployment changed the switch (false: it was already on). */
  changed: boolean;
}

/**
 * The dynamic provider. Pulumi serializes this object with its methods' closures into the
 * stack's state; each method is therefore self-contained: the enable logic is `require()`d
 * inside the method, by path, and only strings are captured. delete must stay free of any
 * require: Pulumi runs the delete of the provider stored in state, whose paths may be another
 * machine's.
 */
export const auditLoggingSwitchProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: AuditLoggingSwitchInputs): Promise<pulumi.dynamic.CreateResult> {
    let unregister = (): void => {};
    if (TSX_LOADER !== "") unregister = require(TSX_LOADER).register();
    let deploy: typeof import("../scripts/audit-logging/deploy");
    try {
      deploy = require(ENABLE_MODULE);
    } finally {
      unregister();
    }
    const options: DeployEnableOptions = {
      tenantId: inputs.tenantId,
      cloud: inputs.cloud,
      exchangeEndpoint: inputs.exchangeEndpoint,
      ...(inputs.authorityHost ? { authorityHost: inputs.authorityHost } : {}),
    };
    const result = await deploy.enableAuditLoggingAtDeploy(options);
    const outs: AuditLoggingSwitchOutputs = { ...inputs, changed: result.changed === true };
    return { id: `${inputs.tenantId}/unified-audit-logging`, outs };
  },

  async diff(
    _id: string,
    olds: AuditLoggingSwitchOutputs,
    news: AuditLoggingSwitchInputs,
  ): Promise<pulumi.dynamic.DiffResult> {
    // Only the tenant and the cloud say which switch this is; endpoints are how to reach it.
    const tenantChanged = olds.tenantId !== news.tenantId;
    const changes = tenantChanged || olds.cloud !== news.cloud;
    return { changes, replaces: tenantChanged ? ["tenantId"] : [], deleteBeforeReplace: false };
  },

  async update(
    _id: string,
    _olds: AuditLoggingSwitchOutputs,
    news: AuditLoggingSwitchInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    // Enabling again is harmless: nothing changes when the switch is already on.
    const created = await auditLoggingSwitchProvider.create(news);
    return { outs: created.outs };
  },

  async delete(): Promise<void> {
    // Deliberately nothing: auditing stays on after `pulumi destroy` (see the file comment).
  },
};

/** Arguments of {@link AuditLoggingSwitch}. */
export interface AuditLoggingSwitchArgs {
  /** The Microsoft 365 tenant GUID. */
  tenantId: string;
  cloud: CloudName;
  /** Exchange Online admin endpoint override (tests, private routing); default: the cloud's. */
  exchangeEndpoint?: string;
  /** Entra ID login host override; default: AZURE_AUTHORITY_HOST at deploy time, else the cloud's. */
  authorityHost?: string;
}

/** Turns unified audit logging on in a tenant at `pulumi up`; leaves it on at `pulumi destroy`. */
export class AuditLoggingSwitch extends pulumi.dynamic.Resource {
  /** Whether the deployment that created (or last updated) it changed the switch. */
  declare public readonly changed: pulumi.Output<boolean>;
  declare public readonly tenantId: pulumi.Output<string>;

  constructor(name: string, args: AuditLoggingSwitchArgs, opts?: pulumi.CustomResourceOptions) {
    const problem = guidProblem(args.tenantId);
    if (problem) {
      throw new Error(`AuditLoggingSwitch ${name}: tenantId ${problem} (got ${args.tenantId})`);
    }
    const inputs: AuditLoggingSwitchInputs = {
      tenantId: args.tenantId.toLowerCase(),
      cloud: args.cloud,
      exchangeEndpoint: (args.exchangeEndpoint ?? CLOUDS[args.cloud].exchangeEndpoint).replace(
        /\/+$/,
        "",
      ),
      authorityHost: args.authorityHost ?? "",
    };
    super(
      auditLoggingSwitchProvider,
      name,
      { ...inputs, changed: undefined },
      opts,
      "auditbridge",
      "AuditLoggingSwitch",
    );
  }
}
