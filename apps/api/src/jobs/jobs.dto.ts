import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PredictionDto } from '../predict/prediction-response.dto';

class JobProgressDto {
  @ApiProperty({ example: 6400, description: 'Texts with a prediction (exact once finished; within one chunk before)' }) texts_done: number;
  @ApiProperty({ example: 100000 }) texts_total: number;
  @ApiProperty({ example: 200 }) chunks_done: number;
  @ApiProperty({ example: 3125, description: 'Chunk jobs of JOBS_CHUNK_SIZE texts' }) chunks_total: number;
}

class ClassMetricsDto {
  @ApiProperty() precision: number;
  @ApiProperty() recall: number;
  @ApiProperty() f1: number;
  @ApiProperty() num_samples: number;
}

export class EvaluationDto {
  @ApiProperty() accuracy: number;
  @ApiProperty({ type: ClassMetricsDto, description: 'Averages weighted by support, as /performance' }) overall: ClassMetricsDto;
  @ApiProperty({ type: ClassMetricsDto }) macro: ClassMetricsDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/ClassMetricsDto' }, description: 'Per class' }) class: Record<
    string,
    ClassMetricsDto
  >;
  @ApiProperty({ type: [String], description: 'Model version(s) that predicted the rows' }) model_versions: string[];
  @ApiProperty({ description: 'Rows whose tag is not one of the model labels (not scored)' }) num_unknown_tags: number;
}

export class BulkPredictionDto extends PredictionDto {
  @ApiProperty({ example: 0, description: 'Row of the input (0-based)' }) index: number;
  @ApiPropertyOptional({ description: 'Expected tag (evaluate jobs)' }) tag?: string;
}

export class JobDto {
  @ApiProperty({ example: '0b6f3e0c-3c55-4d5e-9a39-3f0c2c1e7f10' }) id: string;
  @ApiProperty({ enum: ['tag', 'evaluate'] }) kind: string;
  @ApiProperty({ enum: ['queued', 'active', 'completed', 'failed', 'canceled'] }) state: string;
  @ApiProperty({ type: JobProgressDto }) progress: JobProgressDto;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ nullable: true, type: String }) canceled_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the results are deleted (JOB_RESULT_TTL after finishing)' }) expires_at: string | null;
  @ApiProperty({ type: [String], description: 'Model version(s) that answered (once finished)' }) model_versions: string[];
  @ApiPropertyOptional({ description: 'Why the job failed' }) error?: string;
  @ApiPropertyOptional({ type: EvaluationDto, description: 'Evaluate jobs, once completed' }) performance?: EvaluationDto;
  @ApiPropertyOptional({ type: [BulkPredictionDto], description: 'Completed jobs: rows offset..offset+limit-1' }) predictions?: BulkPredictionDto[];
  @ApiPropertyOptional() offset?: number;
  @ApiPropertyOptional() limit?: number;
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'Offset of the next page, null after the last' }) next_offset?: number | null;
}

export class JobResponseDto {
  @ApiProperty({ example: 'Accepted' }) message: string;
  @ApiProperty({ example: 'POST' }) method: string;
  @ApiProperty({ name: 'status-code', example: 202 }) 'status-code': number;
  @ApiProperty() timestamp: string;
  @ApiProperty({ example: '/jobs' }) url: string;
  @ApiProperty({ type: JobDto }) data: JobDto;
}

/** OpenAPI request bodies: JSON texts, or a CSV file (title,description[,tag] columns). */
export const JOBS_JSON_BODY = {
  type: 'object',
  required: ['texts'],
  properties: { texts: { type: 'array', maxItems: 100000, items: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } },
  example: { texts: [{ text: 'Transfer learning with transformers for text classification.' }] },
};

export const csvBody = (columns: string) => ({
  type: 'string',
  description: `UTF-8 CSV with a header row holding ${columns} (other columns ignored); at most JOBS_MAX_TEXTS rows`,
  example: `${columns}\n`,
});
