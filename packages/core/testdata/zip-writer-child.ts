/**
 * Child process of zip-write.spec.ts: creates a source folder under the
 * process's umask (so the modes on disk differ between runs), zips it with
 * writeReproducibleZip and prints the on-disk modes it saw as JSON.
 *
 *   node -r @swc-node/register zip-writer-child.ts <workDir> <out.zip> <epoch> <forward|reverse>
 */
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectFolderEntries, writeReproducibleZip } from '../src/zip-write';

async function main(): Promise<void> {
  const [workDir, out, epoch, order] = process.argv.slice(2) as [string, string, string, string];
  const src = join(workDir, 'src');
  const files: [name: string, content: string, executable: boolean][] = [
    ['README.md', '# readme\n', false],
    ['bin/run.sh', '#!/bin/sh\necho hi\n', true],
    ['data/ä-unicode.txt', 'ünïcode\n'.repeat(50), false],
    ['data/empty', '', false],
    ['Z-upper.txt', 'upper\n', false],
  ];
  if (order === 'reverse') files.reverse();
  for (const [name, content, executable] of files) {
    await mkdir(join(src, name, '..'), { recursive: true });
    // No explicit chmod: the umask decides the mode (0644/0755 or 0600/0700).
    await writeFile(join(src, name), content, { mode: executable ? 0o777 : 0o666 });
  }
  await symlink('../README.md', join(src, 'data', 'readme-link'));
  const entries = await collectFolderEntries(src, { prefix: 'app/', symlinks: 'keep' });
  if (order === 'reverse') entries.reverse();
  await writeReproducibleZip(out, entries, Number(epoch));
  const modes: Record<string, string> = {};
  for (const [name] of files) modes[name] = ((await stat(join(src, name))).mode & 0o777).toString(8);
  process.stdout.write(JSON.stringify({ tz: process.env['TZ'], modes }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
