/**
 * What the manifests' environment is checked against: the keys of the service's configuration
 * class, which of them are required, and the class's verdict on a set of values. The one place
 * that knows the schema's shape, so a change of schema library changes this file only.
 */
import 'reflect-metadata';
import { configKeys as schemaKeys, validateConfig } from '../../libs/config/src/config.schema';

export interface ConfigKeys {
  known: Set<string>;
  required: Set<string>;
}

export function configKeys(): ConfigKeys {
  const known = new Set<string>(schemaKeys());
  if (known.size === 0) throw new Error('the configuration class lists no keys: scripts/k8s/config-keys.ts no longer understands its shape');
  // Every setting has a default (a property initializer), so none is required.
  return { known, required: new Set() };
}

/** The schema's complaints about these values (converted as the services convert them at start-up). */
export function configErrors(env: Record<string, string>): string[] {
  try {
    validateConfig(env);
    return [];
  } catch (err) {
    return (err as Error).message.replace(/^Invalid configuration: /, '').split('; ');
  }
}
