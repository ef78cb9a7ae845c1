import { ApiProperty } from '@nestjs/swagger';

const checks = {
  type: 'object' as const,
  additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['up', 'down'] } }, additionalProperties: true },
};

/** A passing health check, as @nestjs/terminus answers it (not in the envelope: probes read `status`). */
export class HealthResponseDto {
  @ApiProperty({ enum: ['ok'] }) status: string;
  @ApiProperty({ ...checks, example: { redis: { status: 'up' }, workers: { status: 'up', count: 1 } } }) info: Record<string, unknown>;
  @ApiProperty({ ...checks, example: {} }) error: Record<string, unknown>;
  @ApiProperty({ ...checks, example: { redis: { status: 'up' }, workers: { status: 'up', count: 1 } } }) details: Record<string, unknown>;
}
