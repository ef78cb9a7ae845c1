import type { DocumentBuilder } from '@nestjs/swagger';

/** Name of the security scheme in the OpenAPI document (what Swagger UI's Authorize dialog lists). */
export const API_KEY_SCHEME = 'api-key';

/**
 * With API keys on, the OpenAPI document declares HTTP bearer auth and requires it for every
 * operation, so Swagger UI at /docs shows the Authorize button and sends `Authorization: Bearer`
 * on "Try it out". /docs itself stays open: a browser cannot attach a key to loading the page, and
 * it shows only the API's shape. (/health/* are listed as needing the key; they do not.)
 */
export function withApiKeyAuth(builder: DocumentBuilder, enabled: boolean): DocumentBuilder {
  if (!enabled) return builder;
  return builder
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS or API_KEYS_FILE' }, API_KEY_SCHEME)
    .addSecurityRequirements(API_KEY_SCHEME);
}
