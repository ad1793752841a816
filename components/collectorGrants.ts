/**
 * Role assignments for the collector's managed identity: one built-in role on one resource each,
 * named deterministically so a re-run addresses the same assignment.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import { roleAssignmentName } from "./naming";
import { roleDefinitionIdFor } from "./roles";

/** One grant: what to call it, which role, where, and why (the assignment's description). */
export interface CollectorGrant {
  /** Suffix of the Pulumi resource name (`<name>-<suffix>`). */
  suffix: string;
  /** Built-in role definition GUID. */
  roleGuid: string;
  /** Resource id the role is granted on: the narrowest scope that works. */
  scope: pulumi.Output<string>;
  description: string;
}

/** Grants `grant.roleGuid` on `grant.scope` to the principal. */
export function grantRole(
  name: string,
  principalId: pulumi.Output<string>,
  grant: CollectorGrant,
  opts: pulumi.CustomResourceOptions,
): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    `${name}-${grant.suffix}`,
    {
      principalId,
      // Without it, a fresh identity not yet replicated in Entra ID fails the assignment.
      principalType: "ServicePrincipal",
      roleDefinitionId: grant.scope.apply((s) => roleDefinitionIdFor(s, grant.roleGuid)),
      scope: grant.scope,
      roleAssignmentName: pulumi
        .all([grant.scope, principalId])
        .apply(([s, principal]) => roleAssignmentName(s, grant.roleGuid, principal)),
      description: grant.description,
    },
    opts,
  );
}
