import { contentTypeProblem } from './content-type';

describe('contentTypeProblem', () => {
  it('accepts JSON, with or without charset=utf-8, and requests with neither body nor Content-Type', () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/json;']) {
      expect([type, contentTypeProblem({ 'content-type': type, 'content-length': '2' })]).toEqual([type, undefined]);
    }
    expect(contentTypeProblem({})).toBeUndefined();
    expect(contentTypeProblem({ 'content-length': '0' })).toBeUndefined();
  });

  it('refuses any other type, other parameters, and a body without a type', () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/merge-patch+json',
      'application/problem+json',
      'application/json; charset=latin1',
      'application/json; boundary=x',
      '',
    ]) {
      expect([type, contentTypeProblem({ 'content-type': type })]).toEqual([type, expect.any(String)]);
    }
    expect(contentTypeProblem({ 'content-length': '5' })).toBe('a body needs Content-Type: application/json');
    expect(contentTypeProblem({ 'transfer-encoding': 'chunked' })).toBe('a body needs Content-Type: application/json');
    expect(contentTypeProblem({ 'content-type': 'text/plain' })).toBe(
      'Content-Type "text/plain" is not supported: bodies are application/json',
    );
  });
});
