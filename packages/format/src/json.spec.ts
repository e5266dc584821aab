/**
 * parseJsonUnique: the release's JSON files may not give one key twice in an
 * object (JSON.parse keeps the last, other readers the first).
 */
import { describe, expect, it } from 'vitest';
import { duplicateJsonKey, parseJsonUnique } from './bytes';

describe('duplicateJsonKey', () => {
  it.each<[string, string | undefined]>([
    ['{"a": 1, "b": 2}', undefined],
    ['{"a": 1, "a": 2}', 'a'],
    ['{"a": 1, "\\u0061": 2}', 'a'],
    ['{"a": {"b": 1}, "b": {"a": 1}}', undefined],
    ['{"x": [{"k": 1}, {"k": 2}]}', undefined],
    ['{"x": [{"k": 1, "k": 2}]}', 'k'],
    ['{"s": "a\\"b", "t": "{\\"a\\": 1, \\"a\\": 2}"}', undefined],
    ['{"a\\\\": 1, "a\\\\": 2}', 'a\\'],
    ['[1, "a", {"a": 1}, "a"]', undefined],
    ['"just a string"', undefined],
    [`${'['.repeat(10_000)}{"d": 1, "d": 2}${']'.repeat(10_000)}`, 'd'],
  ])('%s', (text, key) => {
    expect(duplicateJsonKey(text)).toBe(key);
  });
});

describe('parseJsonUnique', () => {
  it('parses like JSON.parse when every key is unique', () => {
    expect(parseJsonUnique('{"a": [1, {"b": null}]}')).toEqual({ a: [1, { b: null }] });
  });

  it('refuses a key given twice, naming it, and invalid JSON as JSON.parse does', () => {
    expect(() => parseJsonUnique('{"predicateType": "x", "predicateType": "y"}')).toThrow(new SyntaxError('the key "predicateType" is given twice in one object'));
    expect(() => parseJsonUnique('{"a": ')).toThrow(SyntaxError);
  });
});
