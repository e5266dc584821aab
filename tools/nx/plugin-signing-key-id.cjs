// Nx runtime input of the plugin-zip targets: identifies the plugin signing
// key in HELIX_PLUGIN_SIGNING_KEY by the SHA-256 of its *public* half, so a
// new key invalidates cached plugin zips while the secret itself never enters
// a task hash.
const crypto = require('node:crypto');
const pem = process.env.HELIX_PLUGIN_SIGNING_KEY;
let id = 'none';
if (pem) {
  try {
    const der = crypto.createPublicKey(crypto.createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
    id = crypto.createHash('sha256').update(der).digest('hex');
  } catch {
    id = 'unreadable';
  }
}
process.stdout.write(`plugin-signing-key=${id}\n`);
