import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { EnvelopeDto } from '../predict/prediction-response.dto';

/** A metric, parameter or sub-object: what a filter or an argument name picks can be any JSON value. */
const ANY_JSON = [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }, { type: 'object', additionalProperties: true }, { type: 'array', items: {} }];

const VERSION_EXAMPLE = 'a8ca52859b7ad3f2c5ba4ef4d13e2f35.dir';
const VERSION_DOC = "The artifact's DVC hash (`<md5 of the tree manifest>.dir`, as in its .dvc pointer file)";

/** What every model-info answer says about the version it describes. */
class ServedVersionDto {
  @ApiProperty({ description: VERSION_DOC, example: VERSION_EXAMPLE }) model_version: string;
  @ApiProperty({ description: 'Workers serving this version right now (each refreshes its entry every WORKER_HEARTBEAT_MS)', example: 3 }) workers: number;
  @ApiProperty({
    description: 'When the model was loaded, by the worker of this version that last published its info (ISO 8601)',
    example: '2026-01-01T00:00:00.000Z',
  })
  loaded_at: string;
}

class PerformanceVersionDto extends ServedVersionDto {
  @ApiProperty({
    description: 'Holdout metrics of this version, or the `filter` key of them (null if this version has no such key)',
    example: { accuracy: 0.921, overall: { precision: 0.92, recall: 0.92, f1: 0.92, num_samples: 191 }, class: {} },
    nullable: true,
    oneOf: ANY_JSON,
  })
  performance: unknown;
}

class PerformanceDataDto extends PerformanceVersionDto {
  @ApiProperty({
    type: [PerformanceVersionDto],
    description:
      'Every version served right now, most served first (the top-level fields describe the first). Two during a rollout; only the one asked for with `?version=`.',
  })
  versions: PerformanceVersionDto[];
}

export class PerformanceResponseDto extends EnvelopeDto {
  @ApiProperty({ type: PerformanceDataDto }) data: PerformanceDataDto;
}

class ArgsVersionDto extends ServedVersionDto {
  @ApiProperty({
    description: 'Training parameters of this version (for GET /args/{arg}: only that key, null if this version has no such key)',
    example: { features: 'both', C: 100, seed: 42 },
    type: 'object',
    additionalProperties: true,
  })
  args: Record<string, unknown>;
}

class ArgsDataDto extends ArgsVersionDto {
  @ApiProperty({ type: [ArgsVersionDto], description: 'Every version served right now, most served first (only the one asked for with `?version=`)' })
  versions: ArgsVersionDto[];
}

export class ArgsResponseDto extends EnvelopeDto {
  @ApiProperty({ type: ArgsDataDto }) data: ArgsDataDto;
}

@ApiSchema({ description: 'The parameter asked for is a key of its own: GET /args/C answers `{"C": 100, "model_version": …}`' })
class ArgDataDto extends ServedVersionDto {
  @ApiPropertyOptional({
    name: '{arg}',
    description:
      'The value of the parameter asked for, under its own name, as in the original API (`{"C": 100}`); null if the described version has no such parameter',
    example: 100,
    nullable: true,
    oneOf: ANY_JSON,
  })
  '{arg}'?: unknown;
  @ApiProperty({ type: [ArgsVersionDto], description: 'Every version served right now, with `args` holding only the parameter asked for' })
  versions: ArgsVersionDto[];
}

export class ArgResponseDto extends EnvelopeDto {
  @ApiProperty({ type: ArgDataDto }) data: ArgDataDto;
}
