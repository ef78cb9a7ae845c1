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
}

/** The envelope every answer comes in (the original tagifai API's). */
class EnvelopeDto {
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

class PerformanceDataDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Holdout metrics: overall, per class and per slice (precision, recall, f1, num_samples)',
  })
  performance: Record<string, unknown>;

  @ApiProperty({ example: '0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir', description: 'DVC hash of the served artifact' })
  model_version: string;
}

export class PerformanceResponseDto extends EnvelopeDto {
  @ApiProperty({ type: PerformanceDataDto }) data: PerformanceDataDto;
}

class ArgsDataDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Training parameters' })
  args: Record<string, unknown>;

  @ApiProperty({ example: '0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir' })
  model_version: string;
}

export class ArgsResponseDto extends EnvelopeDto {
  @ApiProperty({ type: ArgsDataDto }) data: ArgsDataDto;
}

/** Every error, from any layer of the gateway, has exactly this shape. */
export class ErrorResponseDto extends EnvelopeDto {
  @ApiProperty({ example: 'texts must contain at least one item', description: 'What went wrong, readable' })
  error: string;

  @ApiPropertyOptional({
    description: 'Structured detail: the listed problems (422, at most 10), the job id (502/503/504), the failed checks (health 503)',
    oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'object', additionalProperties: true }],
  })
  details?: unknown;
}
