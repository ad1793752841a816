/**
 * docs/components.md covers the package: one section per component the entry exports, and a
 * meaning for every argument (the page is generated from the Args interfaces' JSDoc, so an
 * undocumented argument would show an empty cell). Staleness is test/docs/generated.test.ts's.
 * The README's example program type-checks against the packed package.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import * as entry from "../../components";
import { argsOf, COMPONENTS } from "../../docs/gen/components";
import { consumerProject, packedPackage, REPO, removeConsumerProjects } from "./consumer";

afterAll(removeConsumerProjects);

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

describe("README: Use the components in your own Pulumi program", () => {
  it("shows a program that type-checks against the packed package", () => {
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## Use the components in your own Pulumi program"),
    );
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain('from "auditbridge"');
    const dir = consumerProject(packedPackage(), "readme");
    writeFileSync(path.join(dir, "index.ts"), code!);
    cpSync(
      path.join(REPO, "examples", "minimal", "tsconfig.json"),
      path.join(dir, "tsconfig.json"),
    );
    const config = ts.readConfigFile(path.join(dir, "tsconfig.json"), ts.sys.readFile).config;
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dir);
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(errors).toEqual([]);
  }, 240_000);
});
