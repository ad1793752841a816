import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Pages written on branches that are merged together with this one. A link to one of them is
 * accepted while the page does not exist yet; once it exists, the entry must go (the test says
 * so), and from then on the page's links and headings are checked like every other page's.
 */
const PENDING_PAGES: readonly string[] = [];

/** Paths (repository-relative, `/`-separated) never scanned. */
const SKIPPED = new Set(["node_modules", ".git", "bench/results", "bin", ".auditbridge"]);

/** Where the "stands alone" scan looks: the whole repository. */
const STANDALONE_ROOTS: readonly string[] = [""];

/**
 * Strings that point outside the repository: design notes that are not part of it, or a section
 * numbering of a document it does not contain. Citations are URLs or files in the repository.
 */
const FORBIDDEN_REFERENCES: readonly string[] = [
  "../shared",
  "ARCHITECTURE.md",
  "management-activity-api.md",
  "azure-platform.md",
  "field-lessons.md",
  "siem-formats.md",
  // The project has a docs/sentinel.md of its own; only the outside note is forbidden.
  "reference/sentinel.md",
  "reference §",
];

/** This file names the forbidden strings on purpose. */
const THIS_FILE = path.relative(REPO_ROOT, __filename).split(path.sep).join("/");

function toRepoPath(absolute: string): string {
  return path.relative(REPO_ROOT, absolute).split(path.sep).join("/");
}

/** Every file under `root` (a file or a folder, repository-relative), skipping SKIPPED. */
function filesUnder(root: string): string[] {
  const absolute = path.join(REPO_ROOT, root);
  if (!existsSync(absolute)) return [];
  if (statSync(absolute).isFile()) return [toRepoPath(absolute)];
  const found: string[] = [];
  for (const entry of readdirSync(absolute, { withFileTypes: true })) {
    const child = toRepoPath(path.join(absolute, entry.name));
    if (SKIPPED.has(child) || SKIPPED.has(entry.name)) continue;
    if (entry.isDirectory()) found.push(...filesUnder(child));
    else if (entry.isFile()) found.push(child);
  }
  return found;
}

/** README.md and every Markdown page under docs/. */
function markdownPages(): string[] {
  return ["README.md", ...filesUnder("docs").filter((file) => file.endsWith(".md"))];
}

/** Markdown text without fenced code blocks and inline code, where links are not links. */
function proseOf(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      lines.push("");
      continue;
    }
    lines.push(fenced ? "" : line.replace(/`[^`]*`/g, "``"));
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a Markdown page defines (repeated headings get -1, -2, … as on GitHub). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (!heading) continue;
    const base = headingAnchor(heading[1]!);
    const seen = counts.get(base) ?? 0;
    counts.set(base, seen + 1);
    anchors.add(seen === 0 ? base : `${base}-${seen}`);
  }
  return anchors;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

/** Relative links (`[text](target)`, `![alt](target)`) in a page's prose. */
function relativeLinks(page: string, markdown: string): Link[] {
  const links: Link[] = [];
  for (const [index, line] of proseOf(markdown).entries()) {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ page, line: index + 1, target });
    }
  }
  return links;
}

/** One line per broken link: a missing file, or a heading the target page does not have. */
function brokenLinks(): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let found = anchorCache.get(file);
    if (!found) {
      found = anchorsOf(readFileSync(path.join(REPO_ROOT, file), "utf8"));
      anchorCache.set(file, found);
    }
    return found;
  };
  for (const page of markdownPages()) {
    const text = readFileSync(path.join(REPO_ROOT, page), "utf8");
    for (const link of relativeLinks(page, text)) {
      const [rawPath = "", fragment] = link.target.split("#", 2);
      const decoded = decodeURIComponent(rawPath);
      const targetFile =
        decoded === "" ? page : toRepoPath(path.resolve(REPO_ROOT, path.dirname(page), decoded));
      const where = `${link.page}:${link.line}: ${link.target}`;
      if (targetFile.startsWith("..")) {
        problems.push(`${where} points outside the repository`);
        continue;
      }
      if (!existsSync(path.join(REPO_ROOT, targetFile))) {
        if (!PENDING_PAGES.includes(targetFile)) problems.push(`${where}: no file ${targetFile}`);
        continue;
      }
      if (fragment && targetFile.endsWith(".md") && !anchors(targetFile).has(fragment)) {
        problems.push(`${where}: ${targetFile} has no heading #${fragment}`);
      }
    }
  }
  return problems;
}

describe("documentation links", () => {
  it("finds the pages it checks", () => {
    const pages = markdownPages();
    expect(pages).toContain("README.md");
    expect(pages).toContain("docs/README.md");
  });

  it("resolves every relative link in README.md and docs/ to a file and heading in the repository", () => {
    expect(brokenLinks()).toEqual([]);
  });

  it("lists only pending pages that do not exist yet", () => {
    const landed = PENDING_PAGES.filter((page) => existsSync(path.join(REPO_ROOT, page)));
    expect(
      landed,
      `now in the repository: remove ${landed.join(", ")} from PENDING_PAGES in ${THIS_FILE}`,
    ).toEqual([]);
  });

  it("computes anchors and finds links the way GitHub renders them", () => {
    expect(headingAnchor("State stores (`AUDIT_STATE`)")).toBe("state-stores-audit_state");
    expect(headingAnchor("`/healthz` and `/metrics`")).toBe("healthz-and-metrics");
    expect(
      relativeLinks(
        "docs/x.md",
        "[a](b.md#c) `[no](link.md)` [web](https://example.com)\n```\n[no](x.md)\n```",
      ).map((link) => link.target),
    ).toEqual(["b.md#c"]);
  });
});

describe("the repository stands alone", () => {
  it("cites no document outside the repository", () => {
    const hits: string[] = [];
    for (const file of STANDALONE_ROOTS.flatMap(filesUnder)) {
      if (file === THIS_FILE) continue;
      const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
      for (const [index, line] of text.split("\n").entries()) {
        for (const reference of FORBIDDEN_REFERENCES) {
          if (line.includes(reference)) hits.push(`${file}:${index + 1}: "${reference}"`);
        }
      }
    }
    expect(hits).toEqual([]);
  });
});
