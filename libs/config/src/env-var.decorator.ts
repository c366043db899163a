import 'reflect-metadata';

export type EnvGroup = 'server' | 'database' | 'storage' | 'security' | 'setup' | 'logging' | 'jobs' | 'alerts';

export interface EnvVarMetadata {
  name: string;
  group: EnvGroup;
  description: string;
  /** Sensitive values are never logged, printed or returned. */
  isSensitive?: boolean;
  /** Human readable default, for the configuration reference. */
  defaultText?: string;
  /** `_FILE` variant: the value is read from this file (Docker/Kubernetes secrets). */
  fileVariant?: boolean;
}

const ENV_VARS = Symbol('studiovault:env-vars');

/** Declares an environment variable's documentation next to its validation rules. */
export function EnvVar(meta: Omit<EnvVarMetadata, 'name'>): PropertyDecorator {
  return (target, propertyKey) => {
    const list: EnvVarMetadata[] = Reflect.getMetadata(ENV_VARS, target) ?? [];
    Reflect.defineMetadata(ENV_VARS, [...list, { ...meta, name: String(propertyKey) }], target);
  };
}

export function envVarMetadata(ctor: { prototype: object }): EnvVarMetadata[] {
  return Reflect.getMetadata(ENV_VARS, ctor.prototype) ?? [];
}
