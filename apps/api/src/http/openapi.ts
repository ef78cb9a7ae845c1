import { applyDecorators } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { TagserveConfig } from '@tagserve/config';
import { withApiKeyAuth } from '../auth/api-key.openapi';
import { ErrorResponseDto } from '../predict/prediction-response.dto';

/** Answers that can come with Retry-After: the rate limit, a full queue, Redis away, a lost job. */
const RETRY_STATUSES = new Set([429, 503]);

/** Documents error answers of a route; each has the error envelope, and 429/503 the Retry-After header. */
export function ApiErrorResponses(errors: Record<number, string>) {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        type: ErrorResponseDto,
        description,
        ...(RETRY_STATUSES.has(Number(status))
          ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying (set when waiting helps)', schema: { type: 'integer', minimum: 0 } } } }
          : {}),
      }),
    ),
  );
}

/** The rate limit (THROTTLE_LIMIT per THROTTLE_TTL_MS and client IP) applies to every route but /health and /metrics. */
export const THROTTLED = { 429: 'Rate limit (THROTTLE_LIMIT per THROTTLE_TTL_MS) reached; see Retry-After' };

/** The request schemas as the server enforces them: closed objects, with the configured limits. */
function applyRequestLimits(document: OpenAPIObject, config: Pick<TagserveConfig, 'MAX_TEXTS' | 'MAX_TEXT_LENGTH'>): void {
  const schemas = document.components?.schemas as Record<string, SchemaObject>;
  const request = schemas.PredictRequestDto;
  const item = schemas.TextInputDto;
  request.additionalProperties = false;
  request.required = ['texts'];
  (request.properties!.texts as SchemaObject).maxItems = config.MAX_TEXTS;
  item.additionalProperties = false;
  item.required = ['text'];
  (item.properties!.text as SchemaObject).maxLength = config.MAX_TEXT_LENGTH;
}

export function buildOpenApiDocument(
  app: NestExpressApplication,
  config: Pick<TagserveConfig, 'MAX_TEXTS' | 'MAX_TEXT_LENGTH' | 'API_KEYS' | 'API_KEYS_FILE'>,
): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('tagserve')
    .setDescription(
      'Predict the tag of ML projects from their title and description. Every answer, errors included, comes in the ' +
        'same envelope (message, method, status-code, timestamp, url), except requests Node itself refuses as malformed HTTP.',
    )
    .setVersion('0.1.0');
  const info = withApiKeyAuth(builder, Boolean(config.API_KEYS || config.API_KEYS_FILE)).build();
  const document = SwaggerModule.createDocument(app, info);
  applyRequestLimits(document, config);
  return document;
}
