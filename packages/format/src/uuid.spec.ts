import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { HELIX_UUID_NAMESPACE, uuidV5 } from './uuid';

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** Values computed once with `python3 -c 'import uuid; print(uuid.uuid5(ns, name))'`. */
const CASES: [name: string, namespace: string, expected: string][] = [
  ['helix-release.invalid', NAMESPACE_DNS, '78532c39-8439-5dc7-a4d7-9434eb53091b'],
  ['python.org', NAMESPACE_DNS, '886313e1-3b8a-5372-9b90-0c9aee199e5d'],
  ['https://example.org/ünïcode', NAMESPACE_URL, '291f4008-d1b7-56a8-bd05-917517dfebcb'],
  ['helix-studio-1.4.0-linux-x86_64.zip', HELIX_UUID_NAMESPACE, '3e86b5eb-a8e1-5ed9-a138-daa4dc6cd3e3'],
  ['', HELIX_UUID_NAMESPACE, 'fc202f73-f939-5e28-b4d7-57f0410a2b46'],
];

/** uuid.uuid5 of every case, from one python3 run (names passed as JSON on stdin). */
function pythonUuid5All(cases: readonly (readonly [string, string, string])[]): string[] {
  const script = 'import json, sys, uuid\nfor name, ns in json.load(sys.stdin): print(uuid.uuid5(uuid.UUID(ns), name))';
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(cases.map(([name, ns]) => [name, ns])), encoding: 'utf8' });
  return out.trim().split('\n');
}

describe('uuidV5', () => {
  it.each(CASES)('uuidV5(%j) in %s equals the recorded uuid.uuid5 value', (name, namespace, expected) => {
    expect(uuidV5(name, namespace)).toBe(expected);
  });

  it('equals python3 uuid.uuid5 computed now, for every case', () => {
    const live = pythonUuid5All(CASES);
    expect(live).toHaveLength(CASES.length);
    CASES.forEach(([name, namespace], i) => {
      expect(live[i]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidV5(name, namespace), name).toBe(live[i]);
    });
  });

  it('uses the helix namespace by default, which is uuid5(DNS, "helix-release.invalid")', () => {
    expect(HELIX_UUID_NAMESPACE).toBe(uuidV5('helix-release.invalid', NAMESPACE_DNS));
    expect(uuidV5('x')).toBe(uuidV5('x', HELIX_UUID_NAMESPACE));
    expect(uuidV5('x')).not.toBe(uuidV5('y'));
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(/not a UUID: not-a-uuid/);
  });
});
