// Nx runtime input of release:toolchain: what the toolchain folder of this
// workspace holds, so that the target is served from the cache (no process,
// no pip, no syft call) while nothing it provisions has changed.
//
// Run from the workspace root as `node tools/nx/toolchain-state.cjs <python>`.
// It prints the stamp of the venv and the size and time of every binary the
// stages run (and of the Python the venv was made from, and of the syft on
// PATH, which provisioning may reuse). When the toolchain is visibly not
// provisioned (no stamp, a stamp for other pins, a missing binary) it prints
// a fresh random line instead: such a state must never match a cache entry,
// not even one written by another machine through a shared cache, since the
// run that recorded it went on to install what was missing.
'use strict';
const { createHash, randomUUID } = require('node:crypto');
const { readFileSync, statSync } = require('node:fs');
const { delimiter, isAbsolute, join, sep } = require('node:path');

const python = process.argv[2] || 'python3';
const windows = process.platform === 'win32';
const exe = (name) => (windows ? `${name}.exe` : name);
// This script sits in tools/nx of our files (this repository, or core's assets/).
const ours = join(__dirname, '..', '..');
const root = join(process.cwd(), '.helix', 'toolchain');
const venvBin = join(root, 'venv', windows ? 'Scripts' : 'bin');

const lines = [];
const missing = [];
// Inside the workspace a path is printed relative to it, so that a copy of the workspace sharing the toolchain hashes the same.
const shown = (file) => (file.startsWith(`${process.cwd()}${sep}`) ? file.slice(process.cwd().length + 1) : file);
const statLine = (label, file) => {
  try {
    const s = statSync(file);
    lines.push(`${label}=${shown(file)} ${s.size} ${s.mtimeMs}`);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => {
  if (isAbsolute(name) || name.includes('/')) return name;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const candidate = join(dir || '.', exe(name));
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
};

let stamp = '';
try {
  stamp = readFileSync(join(root, 'venv', 'helix-toolchain.stamp'), 'utf8').trim();
} catch {
  missing.push('stamp');
}
lines.push(`stamp=${stamp}`);
try {
  const pins = JSON.parse(readFileSync(join(ours, 'tools', 'toolchain', 'pins.json'), 'utf8'));
  const digest = (rel) => createHash('sha256').update(readFileSync(join(ours, rel), 'utf8')).digest('hex');
  // The tools every run needs; the dev tools are reported, not required (only `--dev` installs them).
  if (!stamp.split(' ').includes(digest(pins.python.requirements))) missing.push('pins');
  lines.push(`dev=${stamp.split(' ').includes(digest(pins.python.devRequirements))}`);
} catch {
  missing.push('pins file');
}
for (const tool of ['python', 'pyinstaller', 'uv']) {
  if (!statLine(tool, join(venvBin, exe(tool)))) missing.push(tool);
}
const basePython = onPath(python);
if (!basePython || !statLine('base-python', basePython)) missing.push(python);
const syftLocal = join(root, 'bin', exe('syft'));
const syftOnPath = onPath('syft');
const syftLocalPresent = statLine('syft', syftLocal);
const syftOnPathPresent = syftOnPath !== undefined && statLine('syft-on-path', syftOnPath);
if (!syftLocalPresent && !syftOnPathPresent) missing.push('syft');
statLine('actionlint', join(root, 'bin', exe('actionlint')));

process.stdout.write(missing.length ? `unprovisioned (${missing.join(', ')}) ${randomUUID()}\n` : `${lines.join('\n')}\n`);
