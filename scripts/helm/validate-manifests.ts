/**
 * `node --import tsx scripts/helm/validate-manifests.ts FILE...`: validates every object in
 * each file of multi-document YAML (helm template's output) against the Kubernetes API schema
 * (kube-schema.ts). Prints each problem and exits 1 if there is any.
 */
import { validateFile } from "./kube-schema.js";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: validate-manifests.ts FILE...\n");
  process.exit(2);
}
let failed = false;
for (const file of files) {
  const { objects, problems } = await validateFile(file);
  if (objects === 0 && problems.length === 0) {
    process.stderr.write(`kube-schema: ${file}: no objects (an empty render is an error)\n`);
    failed = true;
    continue;
  }
  for (const problem of problems) process.stderr.write(`kube-schema: ${file}: ${problem.object}: ${problem.message}\n`);
  if (problems.length > 0) failed = true;
  else process.stderr.write(`kube-schema: ${file}: ${objects} objects valid\n`);
}
process.exit(failed ? 1 : 0);
