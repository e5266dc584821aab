/**
 * Platform names used in artifact file names: `linux-x86_64`, `macos-arm64`,
 * `windows-x86_64`, …
 */

/** The platform tag of this machine (or of the given Node platform/arch). */
export function platformTag(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'darwin' ? 'macos' : platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? (platform === 'linux' ? 'aarch64' : 'arm64') : arch;
  return `${os}-${cpu}`;
}
