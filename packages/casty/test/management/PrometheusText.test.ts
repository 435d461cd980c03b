// The Prometheus text writer: escaping of label values and help texts, and the names it refuses.

import { PrometheusText } from '../../src/management/PrometheusText';

test('escapes backslash, double quote and newline in label values, backslash and newline in help', () => {
  const text = new PrometheusText().add('x_total', 'counter', 'a \\ help\nline', [[{ node: 'a"b\\c\nd' }, 3]]).toString();
  expect(text).toBe('# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{node="a\\"b\\\\c\\nd"} 3\n');
});

test('renders samples without labels, and special values', () => {
  const text = new PrometheusText().add('g', 'gauge', 'h', [[{}, 1.5], [{ k: 'v' }, NaN], [{ k: 'w' }, Infinity]]).toString();
  expect(text.split('\n')).toEqual(['# HELP g h', '# TYPE g gauge', 'g 1.5', 'g{k="v"} NaN', 'g{k="w"} +Inf', '']);
});

test('refuses a counter not ending in _total, a bad metric or label name, and a family twice', () => {
  expect(() => new PrometheusText().add('x', 'counter', 'h', [])).toThrow(/must end in _total/);
  expect(() => new PrometheusText().add('1x', 'gauge', 'h', [])).toThrow(/invalid metric name/);
  expect(() => new PrometheusText().add('x', 'gauge', 'h', [[{ 'a-b': 'v' }, 1]])).toThrow(/invalid label name 'a-b'/);
  expect(() => new PrometheusText().add('x', 'gauge', 'h', [[{ __x: 'v' }, 1]])).toThrow(/invalid label name '__x'/);
  expect(() => new PrometheusText().add('x', 'gauge', 'h', []).add('x', 'gauge', 'h', [])).toThrow(/added twice/);
});
