/**
 * docs/components.md covers the package: one section per component the entry exports, and a
 * meaning for every argument (the page is generated from the Args interfaces' JSDoc, so an
 * undocumented argument would show an empty cell). Staleness is test/docs/generated.test.ts's.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import * as entry from "../../components";
import { argsOf, COMPONENTS } from "../../docs/gen/components";

describe("docs/components.md", () => {
  it("has a section for every component the package exports", () => {
    const exported = Object.entries(entry)
      .filter(
        ([, value]) =>
          typeof value === "function" && value.prototype instanceof pulumi.ComponentResource,
      )
      .map(([name]) => name)
      .sort();
    expect(COMPONENTS.map((c) => c.name).sort()).toEqual(exported);
  });

  it("documents every argument of every component", () => {
    const undocumented = COMPONENTS.flatMap((c) =>
      argsOf(c.file, c.args)
        .filter((arg) => arg.doc === "")
        .map((arg) => `${c.args}.${arg.name}`),
    );
    expect(undocumented).toEqual([]);
  });

  it("reads the Args interfaces the components declare, tags and providers included", () => {
    const pipeline = argsOf("components/tenantAuditPipeline.ts", "TenantAuditPipelineArgs");
    expect(pipeline.find((a) => a.name === "tags")).toMatchObject({
      type: "Readonly<Record<string, string>>",
      required: false,
    });
    expect(pipeline.find((a) => a.name === "m365TenantId")?.required).toBe(true);
    const app = argsOf("components/auditReaderApp.ts", "AuditReaderAppArgs");
    expect(app.map((a) => a.name)).toContain("appTenantProvider");
    expect(() => argsOf("components/auditReaderApp.ts", "NoSuchArgs")).toThrow(/NoSuchArgs/);
  });
});
