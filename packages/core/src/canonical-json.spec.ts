import { describe, it, expect } from 'vitest';
import { canonicalJson, stableJson } from './canonical-json';

describe('canonicalJson', () => {
  it.each([
    ['sorts object keys by code unit, whatever the insertion order', { b: 1, a: 2, B: 3, _: 4 }, '{"B":3,"_":4,"a":2,"b":1}'],
    ['sorts nested objects, also inside arrays, and keeps array order', { z: [{ y: 1, x: [3, 1, 2] }, [{ d: 0, c: null }]], a: {} }, '{"a":{},"z":[{"x":[3,1,2],"y":1},[{"c":null,"d":0}]]}'],
    ['drops undefined members', { a: undefined, b: 'kept', c: { d: undefined } }, '{"b":"kept","c":{}}'],
    ['writes no white space', { 'a b': 'c d', e: [1, 2] }, '{"a b":"c d","e":[1,2]}'],
    ['keeps scalars as JSON.stringify spells them', [true, false, null, 0, -1.5, 1e21, 'é\n"'], '[true,false,null,0,-1.5,1e+21,"é\\n\\""]'],
  ])('%s', (_what, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('gives the same bytes for equal data built in different orders', () => {
    const one: Record<string, unknown> = {};
    one['x'] = { q: 1, p: [1, { s: 2, r: 3 }] };
    one['a'] = 'v';
    const two = { a: 'v', x: { p: [1, { r: 3, s: 2 }], q: 1 } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it.each([
    ['NaN', { a: [1, Number.NaN] }, /\$\.a\[1\]: NaN has no JSON form/],
    ['Infinity', { a: Infinity }, /\$\.a: Infinity has no JSON form/],
    ['a function', { f: () => 1 }, /\$\.f: a function has no JSON form/],
    ['a bigint', { n: 1n }, /\$\.n: a bigint has no JSON form/],
  ])('refuses %s, naming where it is', (_what, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
    expect(() => stableJson(value)).toThrow(message);
  });
});

describe('stableJson', () => {
  it('is sorted, indented by two spaces and ends with exactly one newline', () => {
    const text = stableJson({ b: [1], a: { d: undefined, c: true } });
    expect(text).toBe('{\n  "a": {\n    "c": true\n  },\n  "b": [\n    1\n  ]\n}\n');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
  });

  it('parses back to the same value as canonicalJson', () => {
    const value = { z: [{ y: 1, x: 'é' }], a: null };
    expect(JSON.parse(stableJson(value))).toEqual(JSON.parse(canonicalJson(value)));
  });
});
