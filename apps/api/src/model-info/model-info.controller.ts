import { Controller, Get, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { envelope, Envelope } from '../http/response-envelope';
import { ModelInfoService } from './model-info.service';

@ApiTags('model')
@Controller()
export class ModelInfoController {
  constructor(private readonly modelInfo: ModelInfoService) {}

  @Get()
  @ApiOperation({ summary: 'Health check in the original tagifai shape' })
  index(@Req() req: Request): Envelope {
    return envelope(req, 200, 'OK', {});
  }

  @Get('performance')
  @ApiOperation({ summary: 'Evaluation metrics of the served model (holdout set)' })
  async performance(@Req() req: Request): Promise<Envelope> {
    const info = await this.modelInfo.get();
    return envelope(req, 200, 'OK', { performance: info.performance, model_version: info.version });
  }

  @Get('args')
  @ApiOperation({ summary: 'Training parameters of the served model' })
  async args(@Req() req: Request): Promise<Envelope> {
    const info = await this.modelInfo.get();
    return envelope(req, 200, 'OK', { args: info.args, model_version: info.version });
  }
}
