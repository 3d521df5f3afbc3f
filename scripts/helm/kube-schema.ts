/**
 * Checks rendered Kubernetes objects against the Kubernetes API schema, offline (kubectl
 * cannot validate without an API server). Three checks:
 *
 * 1. The kind must be a built-in one that `kubernetes-models` (generated from Kubernetes'
 *    OpenAPI document) has a model for; anything else, a custom resource included, is refused.
 * 2. The model's `validate()`: types, required fields, enum values and formats (int32 ports,
 *    quantities), as the OpenAPI schema states them.
 * 3. Unknown fields. The OpenAPI schema leaves objects open, so `validate()` passes a misspelt
 *    `readinessProbes`; TypeScript's excess-property check against the model's interface
 *    (`IContainer` and so on) refuses it. All objects go into one generated file typed by those
 *    interfaces, checked by one `tsc` run, and each error is mapped back to its object and field.
 *    tsc reports one error per object: the first unknown field (the next shows once it is fixed),
 *    and none beyond what validate() already said. An object passes only with no error at all.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/** A parsed manifest object and where it came from (helm's "# Source:" line, or the file). */
export interface Manifest {
  readonly object: Record<string, unknown>;
  readonly source: string;
}

/** One thing wrong with one object. */
export interface Problem {
  /** "Deployment t-parley-chat (parley/templates/deployments.yaml)", or the file for a YAML error. */
  readonly object: string;
  readonly message: string;
}

const REPO = resolve(import.meta.dirname, "../..");
const API_VERSION = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\/)?v\d+(?:(?:alpha|beta)\d+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: unknown): { validate(): void };
}

/** Splits multi-document YAML (helm template's output) into objects; empty documents are skipped. */
export function parseManifests(text: string, file: string): { manifests: Manifest[]; problems: Problem[] } {
  const manifests: Manifest[] = [];
  const problems: Problem[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      problems.push(...document.errors.map((error) => ({ object: file, message: `YAML: ${error.message}` })));
      continue;
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    // helm template writes "# Source: <chart>/templates/<file>" at the top of each document.
    const comment = `${document.commentBefore ?? ""}\n${(document.contents as { commentBefore?: string } | null)?.commentBefore ?? ""}`;
    const source = /^ ?Source: (\S+)/m.exec(comment)?.[1] ?? file;
    if (typeof value !== "object" || Array.isArray(value)) {
      problems.push({ object: source, message: "a document is not a Kubernetes object (a mapping)" });
      continue;
    }
    manifests.push({ object: value as Record<string, unknown>, source });
  }
  return { manifests, problems };
}

/** Every problem of every object; empty when all are valid. */
export async function validateManifests(manifests: readonly Manifest[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const typed: Typed[] = [];
  const seen = new Set<string>();
  for (const manifest of manifests) {
    const { apiVersion, kind } = manifest.object;
    const label = describe(manifest);
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      problems.push({ object: label, message: "apiVersion and kind must both be strings" });
      continue;
    }
    const model = await modelFor(apiVersion, kind);
    if (model === undefined) {
      problems.push({ object: label, message: `unknown kind ${kind} in ${apiVersion}: not a built-in Kubernetes kind with a schema` });
      continue;
    }
    const key = `${apiVersion}/${kind}/${namespaceOf(manifest)}/${nameOf(manifest)}`;
    if (seen.has(key)) problems.push({ object: label, message: "rendered twice: a second object with this kind, namespace and name" });
    seen.add(key);
    const found = schemaProblems(model, manifest);
    problems.push(...found);
    typed.push({ manifest, modulePath: `kubernetes-models/${apiVersion}/${kind}`, schemaValid: found.length === 0 });
  }
  problems.push(...unknownFieldProblems(typed));
  return problems;
}

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!API_VERSION.test(apiVersion) || !KIND.test(kind)) return undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw err;
  }
  const model = module[kind] as ModelClass | undefined;
  // Types such as Container have models too, but no apiVersion and kind of their own.
  return typeof model === "function" && model.kind === kind && model.apiVersion === apiVersion ? model : undefined;
}

function schemaProblems(model: ModelClass, manifest: Manifest): Problem[] {
  try {
    new model(manifest.object).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!Array.isArray(errors)) return [{ object: describe(manifest), message: (err as Error).message }];
    return errors.map((error) => ({
      object: describe(manifest),
      message: `${fieldPath(error.instancePath)}: ${error.message ?? "does not match the schema"}`,
    }));
  }
}

/** "/spec/template/spec/containers/0/ports" -> "spec.template.spec.containers[0].ports". */
function fieldPath(pointer: string): string {
  if (pointer === "") return "(the object)";
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === "" ? part : `${path}.${part}`), "");
}

/** An object whose kind has a model: the module of its interface, and whether validate() passed it. */
interface Typed {
  readonly manifest: Manifest;
  readonly modulePath: string;
  readonly schemaValid: boolean;
}

/**
 * Unknown fields (TS2353), plus any other type error in an object validate() passed (which
 * would otherwise repeat what validate() already said, in TypeScript's words).
 */
function unknownFieldProblems(typed: readonly Typed[]): Problem[] {
  if (typed.length === 0) return [];
  // Each line of the generated file, with the object (index into typed, -1 for imports) and field it holds.
  const lines: { text: string; index: number; path: string }[] = [];
  const modules = [...new Set(typed.map((t) => t.modulePath))];
  for (const [i, modulePath] of modules.entries()) {
    const kind = modulePath.slice(modulePath.lastIndexOf("/") + 1);
    lines.push({ text: `import type { I${kind} as T${i} } from ${JSON.stringify(modulePath)};`, index: -1, path: "" });
  }
  for (const [index, { manifest, modulePath }] of typed.entries()) {
    const literal = printLiteral(withoutNulls(manifest.object), "", 0, `export const object${index}: T${modules.indexOf(modulePath)} = `);
    literal[literal.length - 1]!.text += ";";
    lines.push(...literal.map((line) => ({ ...line, index })));
  }
  const output = runTsc(`${lines.map((line) => line.text).join("\n")}\n`);
  const problems: Problem[] = [];
  for (const match of output.matchAll(/^objects\.ts\((\d+),\d+\): error (TS\d+): (.*)$/gm)) {
    const line = lines[Number(match[1]) - 1];
    const entry = line && line.index >= 0 ? typed[line.index] : undefined;
    if (line === undefined || entry === undefined) {
      problems.push({ object: "the generated type check", message: `${match[2]}: ${match[3]}` });
      continue;
    }
    const unknownField = match[2] === "TS2353";
    if (!unknownField && !entry.schemaValid) continue;
    const message = unknownField ? `unknown field (${match[3]})` : `${match[3]} (${match[2]})`;
    problems.push({ object: describe(entry.manifest), message: `${line.path || "(the object)"}: ${message}` });
  }
  // tsc failed, but with nothing this maps to an object (a configuration error): never a pass.
  if (output !== "" && !/^objects\.ts\(/m.test(output)) problems.push({ object: "the generated type check", message: output.trim() });
  return problems;
}

/** A JSON value as TypeScript literal lines, one property or element per line, each tagged with its field path. */
function printLiteral(value: unknown, path: string, depth: number, prefix: string): { text: string; path: string }[] {
  const pad = "  ".repeat(depth);
  const children: { text: string; path: string }[][] = [];
  let open: string;
  let close: string;
  if (Array.isArray(value)) {
    [open, close] = ["[", "]"];
    value.forEach((item, i) => {
      children.push(printLiteral(item, `${path}[${i}]`, depth + 1, ""));
    });
  } else if (value !== null && typeof value === "object") {
    [open, close] = ["{", "}"];
    for (const [key, item] of Object.entries(value)) {
      children.push(printLiteral(item, path === "" ? key : `${path}.${key}`, depth + 1, `${JSON.stringify(key)}: `));
    }
  } else {
    return [{ text: `${pad}${prefix}${JSON.stringify(value)}`, path }];
  }
  for (const child of children) child[child.length - 1]!.text += ",";
  return [{ text: `${pad}${prefix}${open}`, path }, ...children.flat(), { text: `${pad}${close}`, path }];
}

/** The API server treats a null field as absent; so does the type check. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== null)
        .map(([key, item]) => [key, withoutNulls(item)]),
    );
  }
  return value;
}

/** Type-checks `source` against kubernetes-models' interfaces; returns tsc's diagnostics (empty when clean). */
function runTsc(source: string): string {
  mkdirSync(join(REPO, ".tools"), { recursive: true });
  // Inside the repository, so that "kubernetes-models" resolves from its node_modules.
  const dir = mkdtempSync(join(REPO, ".tools", "kube-schema-"));
  try {
    writeFileSync(join(dir, "objects.ts"), source);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2023", types: [], skipLibCheck: true },
        files: ["objects.ts"],
      }),
    );
    const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
    try {
      execFileSync(process.execPath, [tsc, "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return "";
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      if (!stdout) throw new Error(`tsc failed without diagnostics: ${stderr ?? (err as Error).message}`);
      return stdout;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nameOf(manifest: Manifest): string {
  const metadata = manifest.object.metadata as { name?: unknown } | undefined;
  return typeof metadata?.name === "string" ? metadata.name : "(no name)";
}

function namespaceOf(manifest: Manifest): string {
  const metadata = manifest.object.metadata as { namespace?: unknown } | undefined;
  return typeof metadata?.namespace === "string" ? metadata.namespace : "";
}

function describe(manifest: Manifest): string {
  const kind = typeof manifest.object.kind === "string" ? manifest.object.kind : "(no kind)";
  return `${kind} ${nameOf(manifest)} (${manifest.source})`;
}

/** Reads a file of multi-document YAML and validates every object in it. */
export async function validateFile(file: string): Promise<{ objects: number; problems: Problem[] }> {
  const { manifests, problems } = parseManifests(readFileSync(file, "utf8"), file);
  return { objects: manifests.length, problems: [...problems, ...(await validateManifests(manifests))] };
}
