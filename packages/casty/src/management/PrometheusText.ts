// The Prometheus text exposition format (version 0.0.4), written by hand: a family is `# HELP`, `# TYPE`, then
// its samples, each family once; counter names end in `_total`; label values escape backslash, double quote and
// newline, help texts backslash and newline. Names are checked, so a typo here fails a test, not a scrape.

export type MetricType = 'counter' | 'gauge';
export type Labels = Readonly<Record<string, string>>;
export type Sample = readonly [labels: Labels, value: number];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (help: string): string => help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Collects metric families and renders them. */
export class PrometheusText {
  private readonly families = new Set<string>();
  private readonly lines: string[] = [];

  /** Adds a family; a counter's name must end in `_total`, and a family can be added once. */
  add(name: string, type: MetricType, help: string, samples: readonly Sample[]): this {
    if (!NAME.test(name)) throw new Error(`invalid metric name '${name}'`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter '${name}' must end in _total`);
    if (this.families.has(name)) throw new Error(`metric '${name}' added twice`);
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const pairs = Object.entries(labels).map(([label, v]) => {
        if (!LABEL.test(label) || label.startsWith('__')) throw new Error(`invalid label name '${label}' of '${name}'`);
        return `${label}="${escapeLabelValue(v)}"`;
      });
      this.lines.push(`${name}${pairs.length === 0 ? '' : `{${pairs.join(',')}}`} ${formatValue(value)}`);
    }
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
