/**
 * Reads Pulumi.yaml and a stack file the way the Pulumi CLI uses them to start the program: the
 * entry point from `main`, the stack's `config:` map, and project-level defaults for keys the
 * stack leaves out, flattened to the `namespace:key → string` map the CLI hands the program
 * (PULUMI_CONFIG).
 *
 * The project declares no YAML library (one is only present as somebody else's transitive
 * dependency), so this reads the small YAML subset both files are kept in: nested block
 * mappings, plain / "double" / 'single' quoted scalars and comments. Anything else (lists, flow
 * collections, block scalars, anchors) is refused with the line number, so a richer file breaks
 * the tests loudly rather than being misread.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** A parsed YAML mapping whose leaves are strings. */
export type YamlMap = { [key: string]: string | YamlMap };

/** Parses the YAML subset described above. */
export function parseYamlSubset(text: string, file = "<yaml>"): YamlMap {
  const root: YamlMap = {};
  // Each open mapping with the indentation of its keys.
  const stack: { indent: number; map: YamlMap }[] = [{ indent: 0, map: root }];
  let pendingKey: { parent: YamlMap; key: string; indent: number } | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const where = `${file}:${index + 1}`;
    if (/^\s*(#.*)?$/.test(rawLine)) return;
    if (rawLine.includes("\t")) throw new Error(`${where}: tabs are not supported`);
    const indent = rawLine.length - rawLine.trimStart().length;
    const line = rawLine.trimStart();
    if (/^[-[{&*!|>]/.test(line)) throw new Error(`${where}: unsupported YAML construct: ${line}`);
    const sep = line.search(/:( |$)/);
    if (sep <= 0) throw new Error(`${where}: expected "key: value"`);
    const key = line.slice(0, sep);
    const rest = line.slice(sep + 1).trim();

    if (pendingKey) {
      // The previous key opened a nested mapping iff this line is indented deeper.
      if (indent > pendingKey.indent) {
        const child: YamlMap = {};
        pendingKey.parent[pendingKey.key] = child;
        stack.push({ indent, map: child });
      } else {
        pendingKey.parent[pendingKey.key] = "";
      }
      pendingKey = undefined;
    }
    while (stack.length > 1 && indent < stack[stack.length - 1]!.indent) stack.pop();
    const parent = stack[stack.length - 1]!;
    if (indent !== parent.indent) throw new Error(`${where}: bad indentation`);
    if (Object.hasOwn(parent.map, key)) throw new Error(`${where}: duplicate key ${key}`);

    if (rest === "" || rest.startsWith("#")) {
      pendingKey = { parent: parent.map, key, indent };
      return;
    }
    parent.map[key] = scalar(rest, where);
  });
  if (pendingKey) pendingKey.parent[pendingKey.key] = "";
  return root;
}

function scalar(text: string, where: string): string {
  if (text.startsWith('"')) {
    const end = findClosingDoubleQuote(text);
    if (end < 0) throw new Error(`${where}: unterminated string`);
    assertOnlyComment(text.slice(end + 1), where);
    return JSON.parse(text.slice(0, end + 1)) as string;
  }
  if (text.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'/.exec(text);
    if (!m) throw new Error(`${where}: unterminated string`);
    assertOnlyComment(text.slice(m[0].length), where);
    return m[1]!.replace(/''/g, "'");
  }
  if (/^[[{&*!|>]/.test(text)) throw new Error(`${where}: unsupported YAML value: ${text}`);
  const comment = text.search(/\s#/);
  return (comment >= 0 ? text.slice(0, comment) : text).trim();
}

function findClosingDoubleQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function assertOnlyComment(rest: string, where: string): void {
  if (!/^\s*(#.*)?$/.test(rest)) throw new Error(`${where}: unexpected text after a quoted string`);
}

/** What the CLI takes from Pulumi.yaml. */
export interface PulumiProject {
  root: string;
  name: string;
  runtime: string;
  main: string;
  stackConfigDir: string;
  backendUrl?: string;
  /** Declared config keys (without namespace) with their type and default. */
  config: Record<
    string,
    { type: string; default?: string; description?: string; secret?: boolean }
  >;
}

/** Reads `<root>/Pulumi.yaml`. */
export function readProject(root: string): PulumiProject {
  const file = path.join(root, "Pulumi.yaml");
  const doc = parseYamlSubset(readFileSync(file, "utf8"), file);
  const str = (value: unknown, what: string): string => {
    if (typeof value !== "string") throw new Error(`${file}: ${what} must be a string`);
    return value;
  };
  const config: PulumiProject["config"] = {};
  for (const [key, spec] of Object.entries((doc.config as YamlMap | undefined) ?? {})) {
    if (typeof spec !== "object") throw new Error(`${file}: config.${key} must be a mapping`);
    config[key] = {
      type: str(spec.type, `config.${key}.type`),
      ...(spec.default !== undefined
        ? { default: str(spec.default, `config.${key}.default`) }
        : {}),
      ...(spec.description !== undefined
        ? { description: str(spec.description, `config.${key}.description`) }
        : {}),
      ...(spec.secret !== undefined
        ? { secret: str(spec.secret, `config.${key}.secret`) === "true" }
        : {}),
    };
  }
  const backend = doc.backend as YamlMap | undefined;
  return {
    root,
    name: str(doc.name, "name"),
    runtime: str(doc.runtime, "runtime"),
    main: str(doc.main, "main"),
    stackConfigDir: str(doc.stackConfigDir, "stackConfigDir"),
    ...(backend?.url !== undefined ? { backendUrl: str(backend.url, "backend.url") } : {}),
    config,
  };
}

/** The `config:` map of `<stackConfigDir>/Pulumi.<stack>.yaml`, keys as written. */
export function readStackConfig(project: PulumiProject, stack: string): Record<string, string> {
  const file = path.join(project.root, project.stackConfigDir, `Pulumi.${stack}.yaml`);
  const doc = parseYamlSubset(readFileSync(file, "utf8"), file);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries((doc.config as YamlMap | undefined) ?? {})) {
    if (typeof value !== "string") throw new Error(`${file}: config ${key} must be a scalar`);
    result[key] = value;
  }
  return result;
}

/**
 * The config map the CLI passes to the program for `stack`: the stack file's `config:` entries
 * plus the project's defaults for undeclared ones, keys namespaced, values as strings.
 */
export function cliConfigFor(project: PulumiProject, stack: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(readStackConfig(project, stack))) {
    result[key.includes(":") ? key : `${project.name}:${key}`] = value;
  }
  for (const [key, spec] of Object.entries(project.config)) {
    const full = `${project.name}:${key}`;
    if (result[full] === undefined && spec.default !== undefined) result[full] = spec.default;
  }
  return result;
}
