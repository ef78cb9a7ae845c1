import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrorResponses, THROTTLED } from '../http/openapi';
import { envelope, Envelope } from '../http/response-envelope';
import { ArgsResponseDto, IndexResponseDto, PerformanceResponseDto } from '../predict/prediction-response.dto';
import { ModelInfoService } from './model-info.service';

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
  @ApiOperation({ summary: 'Evaluation metrics of the served model (holdout set)' })
  @ApiOkResponse({ type: PerformanceResponseDto })
  @ApiErrorResponses({ 503: 'Redis unavailable (with Retry-After), or no worker has published its model yet' })
  async performance(@Req() req: Request): Promise<Envelope> {
    const info = await this.modelInfo.get();
    return envelope(req, 200, 'OK', { performance: info.performance, model_version: info.version });
  }

  @Get('args')
  @ApiOperation({ summary: 'Training parameters of the served model' })
  @ApiOkResponse({ type: ArgsResponseDto })
  @ApiErrorResponses({ 503: 'Redis unavailable (with Retry-After), or no worker has published its model yet' })
  async args(@Req() req: Request): Promise<Envelope> {
    const info = await this.modelInfo.get();
    return envelope(req, 200, 'OK', { args: info.args, model_version: info.version });
  }
}
