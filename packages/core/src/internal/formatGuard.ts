// The dual-package hazard, made visible. @casty/core ships CommonJS (dist/*.js) for `require` and ESM
// (dist/esm/*.mjs) for `import`, and each keeps its own registries in module state (@message names, @handle
// and @supervised metadata, error classes by code) and its own classes (`instanceof Actor`). A process that loads
// both (ESM code importing casty next to CommonJS code requiring it) would split them: an actor defined against
// one copy is unknown to the other's runtime. Nothing in one format loads the other, so this only happens when
// an application mixes them; it is reported once, as a process warning, when the second format loads.

declare const __CASTY_MODULE_FORMAT__: string | undefined; // defined as "ESM" by the ESM build (build-esm.mjs)

const KEY = Symbol.for('casty.core.loadedFormat');

/** Records this copy's format; warns when the other format of @casty/core was loaded before it. */
export function noteModuleFormat(): void {
  const format = typeof __CASTY_MODULE_FORMAT__ === 'undefined' ? 'CommonJS' : __CASTY_MODULE_FORMAT__;
  const global = globalThis as { [KEY]?: string };
  const first = global[KEY];
  if (first === undefined) global[KEY] = format;
  else if (first !== format) {
    process.emitWarning(`@casty/core is loaded twice in this process, as ${first} and as ${format}: message ` +
      `registrations, decorators and instanceof checks of one copy are unknown to the other. Load casty one way: ` +
      `import it from ESM code everywhere, or require it from CommonJS everywhere`, { code: 'CASTY_DUAL_PACKAGE' });
  }
}
