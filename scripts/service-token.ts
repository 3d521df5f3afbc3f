/**
 * `npm run service-token -- --key FILE --as PRINCIPAL --audience SERVICE [--ttl SECONDS]`:
 * prints a service token, for operators' tools that are not Parley code:
 *
 *   TOKEN=$(npm run -s service-token -- --key creds/operator_admin.key --as operator:admin --audience idgen)
 *   npx buf curl --protocol grpc --cacert creds/pki/ca.pem -H "parley-service-token: $TOKEN" \
 *     -d '{"id":"123"}' https://127.0.0.1:7002/parley.idgen.v1.IdGenService/DecodeId
 *
 * The key must be listed for PRINCIPAL in the services' trust file.
 */
import { readFileSync } from "node:fs";
import { parsePrincipal, parsePrivateKey, ServiceTokenSigner } from "@parley/runtime";

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const keyFile = flag("key");
const principal = parsePrincipal(flag("as") ?? "");
const audience = flag("audience");
const ttl = Number(flag("ttl") ?? "300");
if (keyFile === undefined || principal === undefined || audience === undefined || !Number.isInteger(ttl) || ttl < 30 || ttl > 3_600) {
  process.stderr.write("usage: npm run service-token -- --key FILE --as operator:NAME --audience SERVICE [--ttl 30..3600]\n");
  process.exit(2);
}
const signer = new ServiceTokenSigner(principal, { current: parsePrivateKey(readFileSync(keyFile)) }, ttl);
process.stdout.write(`${await signer.token(audience)}\n`);
