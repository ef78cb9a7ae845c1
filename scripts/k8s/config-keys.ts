/**
 * What the manifests' environment is checked against: the keys of the service's config schema,
 * which of them are required, and the schema's verdict on a set of values. The one place that
 * knows the schema's shape (a Joi object today), so a change of schema library changes this file only.
 */
import { configSchema } from '../../libs/config/src/config.schema';

export interface ConfigKeys {
  known: Set<string>;
  required: Set<string>;
}

interface JoiDescription {
  keys?: Record<string, { flags?: { presence?: string } }>;
}

export function configKeys(): ConfigKeys {
  const { keys = {} } = configSchema.describe() as JoiDescription;
  const known = new Set(Object.keys(keys));
  const required = new Set(Object.entries(keys).filter(([, d]) => d.flags?.presence === 'required').map(([key]) => key));
  if (known.size === 0) throw new Error('configSchema lists no keys: scripts/k8s/config-keys.ts no longer understands its shape');
  return { known, required };
}

/** The schema's complaints about these values (converted as the services convert them at start-up). */
export function configErrors(env: Record<string, string>): string[] {
  const { error } = configSchema.validate(env, { allowUnknown: true, abortEarly: false, convert: true });
  return error ? error.details.map((d) => d.message) : [];
}
