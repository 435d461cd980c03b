// Rebuilds `@message` class instances from their decoded fields. The prototype is restored without running the
// constructor (a constructor may have side effects or required arguments the receiver does not have), and
// class-transformer's decorators (@Exclude, @Expose, @Transform, @Type) are honoured for classes that use them.

import 'reflect-metadata';
import { plainToClassFromExist, TransformationType } from 'class-transformer';
import type { MessageClass } from '../message';
// class-transformer's public API cannot tell whether a class carries its decorators; its storage module can. A
// static import of the same CommonJS file its main entry uses (with the extension, as ESM needs), so the ESM
// build and a user's bundle get that one storage too (types: classTransformerStorage.d.ts).
import { defaultMetadataStorage as storage } from 'class-transformer/cjs/storage.js';

// class-transformer defaults, spelled out because the round-trip depends on them: keep fields set to
// undefined, and never guess types from design:type metadata (tsx/esbuild do not emit it).
const TRANSFORM_OPTIONS = { exposeUnsetFields: true, enableImplicitConversion: false } as const;

/** What the codec knows about one message class, computed once. */
export class ClassPlan {
  readonly prototype: object;
  /** A class-level strategy (`@Exclude()` / `@Expose()` on the class) sends every decode through class-transformer. */
  readonly classLevel: boolean;
  private readonly keyKinds = new Map<string, KeyKind>();

  constructor(readonly cls: MessageClass) {
    this.prototype = cls.prototype as object;
    this.classLevel = storage.getStrategy(cls) !== 'none';
  }

  /** How class-transformer treats the wire field `key` of this class. */
  kindOf(key: string): KeyKind {
    let kind = this.keyKinds.get(key);
    if (kind === undefined) {
      kind = this.computeKind(key);
      this.keyKinds.set(key, kind);
    }
    return kind;
  }

  private computeKind(key: string): KeyKind {
    const cls = this.cls;
    const property = storage.findExposeMetadataByCustomName(cls, key)?.propertyName ?? key;
    if (storage.findTransformMetadatas(cls, property, TransformationType.PLAIN_TO_CLASS).length > 0) return 'transform';
    if (storage.findTypeMetadata(cls, property) !== undefined) return 'type';
    const decorated = property !== key || storage.findExcludeMetadata(cls, key) !== undefined ||
      storage.findExposeMetadata(cls, key) !== undefined;
    return decorated ? 'decorated' : 'plain';
  }
}

/**
 * `plain`: no decorator, the value is assigned as decoded. `decorated`: @Exclude/@Expose decide whether (and
 * under which name) it is kept. `type`: @Type may turn plain data into class instances. `transform`: @Transform
 * computes the value.
 */
type KeyKind = 'plain' | 'decorated' | 'type' | 'transform';

const plans = new Map<MessageClass, ClassPlan>();

/** The plan of `cls`, made on first use. */
export function planOf(cls: MessageClass): ClassPlan {
  let plan = plans.get(cls);
  if (plan === undefined) {
    plan = new ClassPlan(cls);
    plans.set(cls, plan);
  }
  return plan;
}

/** An instance of `cls` (prototype restored, constructor not run) holding `fields`. */
export function restoreMessage(cls: MessageClass, fields: Record<string, unknown>): object {
  const plan = planOf(cls);
  if (plan.classLevel) return restoreWithTransformer(plan, fields);
  const instance = Object.create(plan.prototype) as Record<string, unknown>;
  // The hot path: a class without class-transformer decorators on these fields gets them assigned as decoded.
  for (const key in fields) {
    if (plan.kindOf(key) !== 'plain') return restoreWithTransformer(plan, fields);
    instance[key] = fields[key];
  }
  return instance;
}

/**
 * Runs class-transformer over the fields for what its decorators decide (which fields are kept, under which
 * name, what a @Transform computes, what a @Type makes of plain data), but keeps object values it would only
 * copy away from it: class-transformer deep-copies them and mangles what it does not model (a Set becomes an
 * array, a Map loses its entries, a nested instance is re-made by calling its constructor), while the codec has
 * already restored them exactly. Those reach class-transformer as `null` (so a @Transform's `obj` shows null
 * there) and get their exact value back wherever class-transformer kept the field.
 */
function restoreWithTransformer(plan: ClassPlan, fields: Record<string, unknown>): object {
  const instance = Object.create(plan.prototype) as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  const exactKeys: string[] = [];
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    const kind = plan.kindOf(key);
    const transformerNeedsIt = kind === 'transform' || (kind === 'type' && isPlainData(value));
    if (typeof value === 'object' && value !== null && !transformerNeedsIt) {
      input[key] = null;
      exactKeys.push(key);
    } else {
      input[key] = value;
    }
  }
  plainToClassFromExist(instance, input, TRANSFORM_OPTIONS);
  for (const key of exactKeys) {
    const property = storage.findExposeMetadataByCustomName(plan.cls, key)?.propertyName ?? key;
    if (Object.prototype.hasOwnProperty.call(instance, property)) instance[property] = fields[key];
  }
  return instance;
}

/** A plain object, or an array holding one: data a `@Type` decorator can turn into instances. */
function isPlainData(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isPlainObject);
  return isPlainObject(value);
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
