import { Controller, Get, Param, Query, Req, UnprocessableEntityException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrorResponses, THROTTLED } from '../http/openapi';
import { IndexResponseDto } from '../predict/prediction-response.dto';
import { envelope, Envelope } from '../http/response-envelope';
import { ArgResponseDto, ArgsResponseDto, PerformanceResponseDto } from './model-info-response.dto';
import { ModelInfoService, pickFromVersions, ServedVersion } from './model-info.service';

const VERSION_QUERY = {
  name: 'version',
  type: String,
  required: false,
  description: 'Describe only this version (its DVC hash, as in `model_version`); 404 if no worker serves it right now',
  example: 'a8ca52859b7ad3f2c5ba4ef4d13e2f35.dir',
};
const ERRORS = {
  404: 'Unknown key, or a `version` no worker serves right now',
  422: 'A query parameter given more than once, or empty',
  503: 'Redis unavailable, or no worker has published its model yet (see Retry-After)',
};

/** One version as every model-info answer describes it. */
function describe(v: ServedVersion): { model_version: string; workers: number; loaded_at: string } {
  return { model_version: v.info.version, workers: v.workers, loaded_at: v.info.loadedAt };
}

/** A query parameter given once, as a string (Express turns `?a=1&a=2` into an array). */
function single(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UnprocessableEntityException(`${name} must be given once, as a non-empty string`);
  return value;
}

@ApiTags('model')
@Controller()
@ApiErrorResponses(THROTTLED)
export class ModelInfoController {
  constructor(private readonly modelInfo: ModelInfoService) {}

  @Get()
  @ApiOperation({ summary: 'Health check in the original tagifai shape' })
  @ApiOkResponse({ type: IndexResponseDto })
  index(@Req() req: Request): Envelope {
    return envelope(req, 200, 'OK', {});
  }

  @Get('performance')
  @ApiOperation({
    summary: 'Holdout metrics of the version(s) served right now, and how many workers serve each',
    description: 'As the original API: `?filter=overall|class|slices|<key>` returns only that key (a dotted path such as `class.mlops` also works).',
  })
  @ApiQuery({
    name: 'filter',
    type: String,
    required: false,
    description: 'A key of the metrics (`overall`, `class`, `accuracy`, …, or a dotted path); 404 if no served version has it',
    example: 'overall',
  })
  @ApiQuery(VERSION_QUERY)
  @ApiOkResponse({ type: PerformanceResponseDto })
  @ApiErrorResponses(ERRORS)
  async performance(@Req() req: Request, @Query('filter') filterParam?: unknown, @Query('version') versionParam?: unknown): Promise<Envelope> {
    const filter = single('filter', filterParam);
    const served = await this.modelInfo.served(single('version', versionParam));
    const picked = filter === undefined ? undefined : pickFromVersions(served, 'performance', filter);
    const performance = (v: ServedVersion) => (picked ? (picked.get(v) ?? null) : v.info.performance);
    const versions = served.versions.map((v) => ({ ...describe(v), performance: performance(v) }));
    return envelope(req, 200, 'OK', { performance: performance(served.primary), ...describe(served.primary), versions });
  }

  @Get('args')
  @ApiOperation({ summary: 'Training parameters of the version(s) served right now, and how many workers serve each' })
  @ApiQuery(VERSION_QUERY)
  @ApiOkResponse({ type: ArgsResponseDto })
  @ApiErrorResponses(ERRORS)
  async args(@Req() req: Request, @Query('version') versionParam?: unknown): Promise<Envelope> {
    const served = await this.modelInfo.served(single('version', versionParam));
    const versions = served.versions.map((v) => ({ ...describe(v), args: v.info.args }));
    return envelope(req, 200, 'OK', { args: served.primary.info.args, ...describe(served.primary), versions });
  }

  @Get('args/:arg')
  @ApiOperation({ summary: 'One training parameter of the served version(s), as `{"<arg>": value}` (the original API)' })
  @ApiParam({
    name: 'arg',
    type: String,
    description: 'A training parameter (`C`, `features`, …, or a dotted path such as `tfidf.analyzer`); 404 if no served version has it',
    example: 'C',
  })
  @ApiQuery(VERSION_QUERY)
  @ApiOkResponse({ type: ArgResponseDto })
  @ApiErrorResponses(ERRORS)
  async arg(@Req() req: Request, @Param('arg') arg: string, @Query('version') versionParam?: unknown): Promise<Envelope> {
    const served = await this.modelInfo.served(single('version', versionParam));
    const picked = pickFromVersions(served, 'args', arg);
    const value = (v: ServedVersion) => picked.get(v) ?? null;
    const versions = served.versions.map((v) => ({ ...describe(v), args: { [arg]: value(v) } }));
    return envelope(req, 200, 'OK', { [arg]: value(served.primary), ...describe(served.primary), versions });
  }
}
