/**
 * AuditReaderApp: the Entra ID application that reads one Microsoft 365 tenant's audit log
 * through the Office 365 Management Activity API, with admin consent and one credential.
 */
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import { CLOUDS, type CloudName } from "../domain/clouds";
import type { ContentType } from "../domain/contentTypes";
import { guidProblem } from "../domain/validators";
import { managementRolesFor, O365_MANAGEMENT_APP_ID, resolveAppRoleIds } from "./roles";
import { secretSchedule } from "./secretRotation";
import {
  certificateBlock,
  certificateExpiry,
  parseIsoInstant,
  secretLifetimeProblem,
  secretRotationProblem,
} from "./validators";

/**
 * Credential of the app: a rotating secret, a certificate, or keyless (managed identity as FIC).
 */
export type AppCredentialArgs =
  | {
      mode: "secret";
      /** Lifetime of each secret in days (1–730). */
      lifetimeDays: number;
      /** A new secret every this many days (at most lifetime − 7). */
      rotationDays: number;
      /** ISO date the rotation periods are counted from; changing it rotates immediately. */
      rotationAnchor: string;
      /** Clock that picks the current rotation period; defaults to the system clock. */
      nowMs?: number;
    }
  | {
      mode: "certificate";
      /** PEM bundle (certificate and private key); only the certificate block is uploaded. */
      certificatePem: pulumi.Input<string>;
    }
  | {
      mode: "federated";
      /** Principal (object) id of the user-assigned managed identity the collector runs as. */
      identityPrincipalId: pulumi.Input<string>;
      /** Tenant of that managed identity: the FIC issuer's tenant. */
      identityTenantId: pulumi.Input<string>;
    };

/** Arguments of {@link AuditReaderApp}. */
export interface AuditReaderAppArgs {
  /** Display name of the app registration. */
  displayName: string;
  /** The Microsoft 365 tenant whose audit log is read (consent is granted there). */
  m365TenantId: string;
  /**
   * Tenant that owns the app registration. Defaults to the M365 tenant. When it differs (the
   * collector's managed identity lives in another tenant), the app is created there as a
   * multitenant app and provisioned plus consented in the M365 tenant.
   */
  appTenantId?: string;
  /** Microsoft 365 cloud; picks the login host, token-exchange audience and Graph environment. */
  cloud?: CloudName;
  /** Content types the collector reads; DLP.All adds ActivityFeed.ReadDlp. */
  contentTypes: readonly ContentType[];
  /** Also grant ServiceHealth.Read (not needed for audit collection). */
  includeServiceHealth?: boolean;
  /** The credential the collector signs in with: rotating secret, certificate or federated. */
  credential: AppCredentialArgs;
  /** Free text stored on the app registration (who manages it). */
  notes?: string;
  /**
   * azuread provider for the app's home tenant (`appTenantId`), when it differs from the
   * Microsoft 365 tenant. Pulumi's `providers` option holds one provider per package, and that
   * one is the Microsoft 365 tenant's; this is the second. When omitted, the M365 tenant's
   * provider is used for a single-tenant app and one is created for a different home tenant.
   */
  appTenantProvider?: azuread.Provider;
}

/**
 * Wait between creating a multitenant app in its home tenant and creating its service principal
 * in the Microsoft 365 tenant: the new app is not visible there at once, and the first attempt
 * fails on replication delay ("The appId … of the service principal does not reference a valid
 * application object"); see https://learn.microsoft.com/entra/identity-platform/howto-create-service-principal-portal
 * and hashicorp/terraform-provider-azuread issue 992.
 */
export const CROSS_TENANT_REPLICATION_WAIT = "60s";
/**
 * Upper bound for creating the service principal and its consent assignments: the provider
 * retries Entra ID's eventual-consistency errors until this timeout.
 */
export const ENTRA_CREATE_TIMEOUT = "10m";

/** Microsoft Graph environment of the azuread provider for each Microsoft 365 cloud. */
const GRAPH_ENVIRONMENT: Readonly<Record<CloudName, string>> = {
  commercial: "global",
  gcc: "global",
  gcchigh: "usgovernmentl4",
  dod: "usgovernmentl5",
};

/**
 * Entra ID application + service principal with Office 365 Management APIs application
 * permissions, admin consent (one app role assignment per role) and the configured credential.
 */
export class AuditReaderApp extends pulumi.ComponentResource {
  /** The Microsoft 365 tenant id. */
  public readonly tenantId: pulumi.Output<string>;
  /** Application (client) id. */
  public readonly clientId: pulumi.Output<string>;
  /** Object id of the app registration. */
  public readonly applicationObjectId: pulumi.Output<string>;
  /** Object id of the app's service principal in the M365 tenant (the consent principal). */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** Management API roles granted with admin consent. */
  public readonly grantedRoles: readonly string[];
  /** Which credential the collector uses. */
  public readonly credentialMode: AppCredentialArgs["mode"];
  /** The current client secret (secret mode only); a Pulumi secret. */
  public readonly clientSecret: pulumi.Output<string> | undefined;
  /** When the current credential expires (RFC 3339), or undefined for keyless. Not secret. */
  public readonly secretExpiresAt: pulumi.Output<string | undefined>;
  /** Rotation period number of the current secret (secret mode only). */
  public readonly secretRotationSlot: number | undefined;
  /**
   * What must exist before the collector's first start: the consent (app role assignments) and
   * the credential Entra ID checks at sign-in (password, certificate or federated credential).
   */
  public readonly signInPrerequisites: readonly pulumi.CustomResource[];

  constructor(name: string, args: AuditReaderAppArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("auditbridge:entra:AuditReaderApp", name, {}, opts);

    const cloud = CLOUDS[args.cloud ?? "commercial"];
    const appTenantId = args.appTenantId ?? args.m365TenantId;
    const crossTenant = appTenantId.toLowerCase() !== args.m365TenantId.toLowerCase();
    const environment = GRAPH_ENVIRONMENT[cloud.name];

    // Explicit providers: the M365 tenant need not be the tenant of the Azure subscription the
    // rest of the stack deploys to, and ambient credentials would otherwise pick the latter. A
    // consumer's azuread provider (the `provider`/`providers` option, here or on a parent) is
    // taken as the M365 tenant's; only without one does the component create its own.
    const m365 =
      this.getProvider("azuread::Provider") ??
      new azuread.Provider(
        `${name}-m365`,
        { tenantId: args.m365TenantId, environment },
        { parent: this },
      );
    const home =
      args.appTenantProvider ??
      (crossTenant
        ? new azuread.Provider(
            `${name}-home`,
            { tenantId: appTenantId, environment },
            { parent: this },
          )
        : m365);

    // Microsoft's first-party Management APIs service principal is only read, never managed: as
    // a resource (even with useExisting) the program could update it and would try to delete it
    // on destroy. A lookup leaves it alone. Stacks that managed it before keep it on upgrade:
    // they declared it with retainOnDelete, so dropping it from the program only forgets it.
    const managementApi = azuread.getServicePrincipalOutput(
      { clientId: O365_MANAGEMENT_APP_ID },
      { parent: this, provider: m365 },
    );

    const collectDlp = args.contentTypes.includes("DLP.All");
    const roles = managementRolesFor({
      collectDlp,
      includeServiceHealth: args.includeServiceHealth ?? false,
    });
    // Role ids are looked up by name: role GUIDs copied from samples are sometimes wrong.
    const roleIds = managementApi.appRoleIds.apply((ids) =>
      resolveAppRoleIds(ids, roles, "Office 365 Management APIs"),
    );

    const app = new azuread.Application(
      `${name}-app`,
      {
        displayName: args.displayName,
        signInAudience: crossTenant ? "AzureADMultipleOrgs" : "AzureADMyOrg",
        requiredResourceAccesses: [
          {
            resourceAppId: O365_MANAGEMENT_APP_ID,
            resourceAccesses: roleIds.apply((ids) =>
              roles.map((role) => ({ id: ids[role]!, type: "Role" })),
            ),
          },
        ],
        notes: args.notes,
      },
      { parent: this, provider: home },
    );

    // A multitenant app reaches the M365 tenant by replication: wait before its service
    // principal is created there. A single-tenant app is created and read in the same tenant.
    const appReplicated = crossTenant
      ? [
          new time.Sleep(
            `${name}-app-replication`,
            { createDuration: CROSS_TENANT_REPLICATION_WAIT },
            { parent: this, dependsOn: [app] },
          ),
        ]
      : [];
    const entraCreate = { create: ENTRA_CREATE_TIMEOUT };
    const servicePrincipal = new azuread.ServicePrincipal(
      `${name}-sp`,
      { clientId: app.clientId, appRoleAssignmentRequired: false },
      {
        parent: this,
        provider: m365,
        dependsOn: [app, ...appReplicated],
        customTimeouts: entraCreate,
      },
    );

    // Admin consent for application permissions is exactly one app role assignment per role
    // from the client's service principal to the API's service principal.
    const consents = roles.map(
      (role) =>
        new azuread.AppRoleAssignment(
          `${name}-consent-${role.replace(/\./g, "-").toLowerCase()}`,
          {
            appRoleId: roleIds.apply((ids) => ids[role]!),
            principalObjectId: servicePrincipal.objectId,
            resourceObjectId: managementApi.objectId,
          },
          {
            parent: this,
            provider: m365,
            dependsOn: [servicePrincipal],
            customTimeouts: entraCreate,
          },
        ),
    );
    const credentialResources: pulumi.CustomResource[] = [];

    const credential = args.credential;
    let clientSecret: pulumi.Output<string> | undefined;
    let secretRotationSlot: number | undefined;
    let secretExpiresAt: pulumi.Output<string | undefined>;
    switch (credential.mode) {
      case "secret": {
        const schedule = secretSchedule({
          anchor: credential.rotationAnchor,
          rotationDays: credential.rotationDays,
          lifetimeDays: credential.lifetimeDays,
          nowMs: credential.nowMs ?? Date.now(),
        });
        // One password per rotation period, named by its period number: see secretRotation.ts
        // for why the previous period's password is kept alongside the current one.
        const slots = schedule.previous
          ? [schedule.previous, schedule.current]
          : [schedule.current];
        let current: azuread.ApplicationPassword | undefined;
        for (const slot of slots) {
          current = new azuread.ApplicationPassword(
            `${name}-secret-${slot.slot}`,
            {
              applicationId: app.id,
              displayName: `auditbridge rotation ${slot.slot}`,
              endDate: slot.endDate,
            },
            { parent: this, provider: home, additionalSecretOutputs: ["value"] },
          );
          credentialResources.push(current);
        }
        clientSecret = pulumi.secret(current!.value);
        secretExpiresAt = pulumi.output(schedule.current.endDate);
        secretRotationSlot = schedule.current.slot;
        break;
      }
      case "certificate": {
        const pem = pulumi.output(credential.certificatePem);
        const expiry = pulumi.unsecret(pem.apply(certificateExpiry));
        const certificate = new azuread.ApplicationCertificate(
          `${name}-certificate`,
          {
            applicationId: app.id,
            type: "AsymmetricX509Cert",
            encoding: "pem",
            // Only the public certificate goes to Entra ID; the key stays in Key Vault.
            value: pem.apply((bundle) => {
              const block = certificateBlock(bundle);
              if (!block)
                throw new Error(`${name}: the certificate bundle has no CERTIFICATE block`);
              return block;
            }),
            endDate: expiry,
          },
          { parent: this, provider: home },
        );
        credentialResources.push(certificate);
        secretExpiresAt = expiry;
        break;
      }
      case "federated": {
        // Managed identity as a federated identity credential: the collector presents a token
        // its user-assigned identity got for the token-exchange audience. Nothing to rotate.
        const federated = new azuread.ApplicationFederatedIdentityCredential(
          `${name}-federated`,
          {
            applicationId: app.id,
            displayName: "auditbridge-collector-managed-identity",
            description: "AuditBridge collector's user-assigned managed identity",
            issuer: pulumi.interpolate`${cloud.authorityHost}/${credential.identityTenantId}/v2.0`,
            subject: credential.identityPrincipalId,
            audiences: [cloud.tokenExchangeAudience],
          },
          { parent: this, provider: home },
        );
        credentialResources.push(federated);
        secretExpiresAt = pulumi.output(undefined);
        break;
      }
    }

    this.tenantId = pulumi.output(args.m365TenantId);
    this.clientId = app.clientId;
    this.applicationObjectId = app.objectId;
    this.servicePrincipalObjectId = servicePrincipal.objectId;
    this.grantedRoles = Object.freeze([...roles]);
    this.credentialMode = credential.mode;
    this.clientSecret = clientSecret;
    this.secretExpiresAt = secretExpiresAt;
    this.secretRotationSlot = secretRotationSlot;
    this.signInPrerequisites = Object.freeze([...consents, ...credentialResources]);
    this.registerOutputs({
      tenantId: this.tenantId,
      clientId: this.clientId,
      applicationObjectId: this.applicationObjectId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      secretExpiresAt: this.secretExpiresAt,
    });
  }
}

/** Argument checks, before any resource exists; one line naming the argument. */
function checkArgs(name: string, args: AuditReaderAppArgs): void {
  const fail = (arg: string, problem: string, got?: string | number): never => {
    throw new Error(
      `AuditReaderApp ${name}: ${arg} ${problem}${got === undefined ? "" : ` (got ${got})`}`,
    );
  };
  const tenantProblem = guidProblem(args.m365TenantId);
  if (tenantProblem) fail("m365TenantId", tenantProblem, args.m365TenantId);
  if (args.appTenantId !== undefined) {
    const problem = guidProblem(args.appTenantId);
    if (problem) fail("appTenantId", problem, args.appTenantId);
  }
  if (args.contentTypes.length === 0) fail("contentTypes", "must name at least one content type");
  if (args.displayName.trim() === "") fail("displayName", "must not be empty");
  const credential = args.credential;
  if (credential.mode === "secret") {
    const lifetime = secretLifetimeProblem(credential.lifetimeDays);
    if (lifetime) fail("credential.lifetimeDays", lifetime, credential.lifetimeDays);
    const rotation = secretRotationProblem(credential.rotationDays, credential.lifetimeDays);
    if (rotation) fail("credential.rotationDays", rotation, credential.rotationDays);
    const anchor = parseIsoInstant(credential.rotationAnchor);
    if (!anchor)
      fail("credential.rotationAnchor", "must be an ISO 8601 date", credential.rotationAnchor);
    if (anchor!.getTime() > (credential.nowMs ?? Date.now())) {
      fail("credential.rotationAnchor", "must not be in the future", credential.rotationAnchor);
    }
  }
  if (args.cloud !== undefined && !Object.hasOwn(CLOUDS, args.cloud)) {
    fail("cloud", `must be one of ${Object.keys(CLOUDS).join(", ")}`, args.cloud);
  }
}
