import { describe, it, expect } from 'vitest';
import { evaluateMarker, markerEnvironment } from './markers';

const PYTHON = '3.11.7';
const PLATFORMS = ['linux-x86_64', 'windows-x86_64', 'macos-arm64'] as const;
type Platform = (typeof PLATFORMS)[number];

/** Marker → expected result on each platform, for CPython 3.11.7. */
const TABLE: [marker: string, expected: Record<Platform, boolean>][] = [
  ['', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  ['sys_platform == "win32"', { 'linux-x86_64': false, 'windows-x86_64': true, 'macos-arm64': false }],
  ["sys_platform != 'win32'", { 'linux-x86_64': true, 'windows-x86_64': false, 'macos-arm64': true }],
  ["platform_python_implementation != 'PyPy'", { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  ["platform_python_implementation == 'PyPy'", { 'linux-x86_64': false, 'windows-x86_64': false, 'macos-arm64': false }],
  ['python_version < "3.12"', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  ['python_version >= "3.12"', { 'linux-x86_64': false, 'windows-x86_64': false, 'macos-arm64': false }],
  // Versions compare as versions: as strings "3.11" > "3.9" would be false.
  ['python_version > "3.9"', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  ['python_full_version >= "3.11.7"', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  ['python_full_version < "3.11.7"', { 'linux-x86_64': false, 'windows-x86_64': false, 'macos-arm64': false }],
  ['"3.12" > python_version', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true }],
  [
    "implementation_name != 'PyPy' and platform_python_implementation != 'PyPy'",
    { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': true },
  ],
  ['os_name == "nt" and platform_machine == "AMD64"', { 'linux-x86_64': false, 'windows-x86_64': true, 'macos-arm64': false }],
  ['platform_system == "Darwin" and platform_machine == "arm64"', { 'linux-x86_64': false, 'windows-x86_64': false, 'macos-arm64': true }],
  ['platform_system == "Linux"', { 'linux-x86_64': true, 'windows-x86_64': false, 'macos-arm64': false }],
  // `and` binds tighter than `or`.
  ['sys_platform == "win32" or sys_platform == "linux" and python_version < "3.0"', { 'linux-x86_64': false, 'windows-x86_64': true, 'macos-arm64': false }],
  ['(sys_platform == "win32" or sys_platform == "linux") and python_version < "3.12"', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': false }],
  ['sys_platform == "darwin" or (sys_platform == "linux" and (platform_machine == "x86_64" or platform_machine == "aarch64"))', { 'linux-x86_64': true, 'windows-x86_64': false, 'macos-arm64': true }],
  ['sys_platform in "linux darwin"', { 'linux-x86_64': true, 'windows-x86_64': false, 'macos-arm64': true }],
  ['sys_platform not in "linux darwin"', { 'linux-x86_64': false, 'windows-x86_64': true, 'macos-arm64': false }],
  ['"arm" in platform_machine', { 'linux-x86_64': false, 'windows-x86_64': false, 'macos-arm64': true }],
  ['"arm" not in platform_machine', { 'linux-x86_64': true, 'windows-x86_64': true, 'macos-arm64': false }],
  ['  sys_platform=="linux"  ', { 'linux-x86_64': true, 'windows-x86_64': false, 'macos-arm64': false }],
];

describe('markerEnvironment', () => {
  it.each([
    ['linux-x86_64', { os_name: 'posix', sys_platform: 'linux', platform_system: 'Linux', platform_machine: 'x86_64' }],
    ['windows-x86_64', { os_name: 'nt', sys_platform: 'win32', platform_system: 'Windows', platform_machine: 'AMD64' }],
    ['macos-arm64', { os_name: 'posix', sys_platform: 'darwin', platform_system: 'Darwin', platform_machine: 'arm64' }],
  ])('%s', (platform, expected) => {
    expect(markerEnvironment(platform, PYTHON)).toMatchObject({
      ...expected,
      platform_python_implementation: 'CPython',
      implementation_name: 'cpython',
      python_version: '3.11',
      python_full_version: '3.11.7',
    });
  });
});

describe('evaluateMarker', () => {
  const rows = TABLE.flatMap(([marker, expected]) => PLATFORMS.map((p) => [p, marker, expected[p]] as const));
  it.each(rows)('%s: %s → %s', (platform, marker, expected) => {
    expect(evaluateMarker(marker, markerEnvironment(platform, PYTHON))).toBe(expected);
  });

  it.each([
    ['unknown_variable == "x"', /unknown marker variable unknown_variable/],
    ['sys_platform ==', /ends early/],
    ['(sys_platform == "linux"', /unbalanced parentheses/],
    ['sys_platform == "linux" "extra"', /trailing text/],
    ['sys_platform "linux"', /expected an operator/],
    ['sys_platform < "linux"', /operator < needs versions/],
    ['sys_platform == "linux" @', /cannot read marker/],
  ])('refuses %j with MARKER_INVALID', (marker, message) => {
    let err: unknown;
    try {
      evaluateMarker(marker, markerEnvironment('linux-x86_64', PYTHON));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'MARKER_INVALID' });
    expect((err as Error).message).toMatch(message);
  });
});
