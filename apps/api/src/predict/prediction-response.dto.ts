import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The tags of the served artifact (head.json `labels`); the OpenAPI test checks them against a live answer. */
export const TAGS = ['computer-vision', 'mlops', 'natural-language-processing', 'other'] as const;

const probability = { type: 'number' as const, minimum: 0, maximum: 1 };

export class PredictionDto {
  @ApiProperty({ example: 'Transfer learning with transformers for text classification.' })
  input_text: string;

  @ApiProperty({ enum: TAGS, example: 'natural-language-processing' })
  predicted_tag: string;

  @ApiProperty({
    type: 'object',
    properties: Object.fromEntries(TAGS.map((tag) => [tag, probability])),
    required: [...TAGS],
    additionalProperties: false,
    example: { 'computer-vision': 0.02, mlops: 0.01, 'natural-language-processing': 0.94, other: 0.03 },
  })
  predicted_probabilities: Record<string, number>;
}

class PredictionsDataDto {
  @ApiProperty({ type: [PredictionDto] })
  predictions: PredictionDto[];

  @ApiProperty({
    description:
      "The model that answered: its artifact's DVC hash (`<md5>.dir`, as `/performance` reports it). One request is always answered by one version; also sent as the `X-Model-Version` header.",
    example: 'a8ca52859b7ad3f2c5ba4ef4d13e2f35.dir',
  })
  model_version: string;
}

/** The envelope every answer comes in (the original tagifai API's). */
export class EnvelopeDto {
  @ApiProperty({ example: 'OK', description: 'HTTP reason phrase' }) message: string;
  @ApiProperty({ example: 'GET' }) method: string;
  @ApiProperty({ name: 'status-code', example: 200 }) 'status-code': number;
  @ApiProperty({ example: '2026-01-01T00:00:00.000Z', format: 'date-time' }) timestamp: string;
  @ApiProperty({ example: '/predict' }) url: string;
}

export class PredictResponseDto extends EnvelopeDto {
  @ApiProperty({ type: PredictionsDataDto }) data: PredictionsDataDto;
}

export class IndexResponseDto extends EnvelopeDto {
  @ApiProperty({ type: 'object', properties: {}, additionalProperties: false, example: {} }) data: Record<string, never>;
}

/** Every error, from any layer of the gateway, has exactly this shape. */
export class ErrorResponseDto extends EnvelopeDto {
  @ApiProperty({ example: 'texts must contain at least one item', description: 'What went wrong, readable' })
  error: string;

  @ApiPropertyOptional({
    description: 'Structured detail: the listed problems (422, at most 10), the job id (502/503/504), the failed checks (health 503)',
    oneOf: [
      { type: 'array', items: { type: 'string' } },
      { type: 'object', additionalProperties: true },
    ],
  })
  details?: unknown;
}
