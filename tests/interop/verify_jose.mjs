// Verify a compact JWS with node `jose` against one public JWK.
// stdin: {"token": "<compact JWS>", "jwk": {...}, "algorithms": ["RS256"]}
// stdout: {"header": {...}, "payload": {...}}; on failure a message on stderr and exit code 1.
import { compactVerify, importJWK } from "jose";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { token, jwk, algorithms } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
try {
  const key = await importJWK(jwk, jwk.alg ?? algorithms[0]);
  const { protectedHeader, payload } = await compactVerify(token, key, { algorithms });
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload)) }));
} catch (error) {
  process.stderr.write(`${error.code ?? error.name}: ${error.message}\n`);
  process.exit(1);
}
