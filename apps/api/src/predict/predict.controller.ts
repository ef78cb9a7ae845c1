import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { envelope, Envelope } from '../http/response-envelope';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { PredictRequestDto } from './predict-request.dto';
import { ErrorResponseDto, PredictResponseDto } from './prediction-response.dto';
import { PredictionService } from './prediction.service';

/** Names the model version that answered, as `data.model_version` does, for clients and proxies that read headers only. */
export const MODEL_VERSION_HEADER = 'X-Model-Version';

@ApiTags('prediction')
@Controller('predict')
export class PredictController {
  constructor(private readonly predictions: PredictionService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Predict the tag of each text' })
  @ApiBody({ type: PredictRequestDto, examples: { one: { value: { texts: [{ text: 'Transfer learning with transformers for text classification.' }] } } } })
  @ApiOkResponse({
    type: PredictResponseDto,
    headers: { [MODEL_VERSION_HEADER]: { description: "The model version that answered (the artifact's DVC hash), the same as data.model_version", schema: { type: 'string' } } },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Malformed JSON' })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'Body larger than BODY_LIMIT' })
  @ApiResponse({ status: 415, type: ErrorResponseDto, description: 'Content-Type is not application/json' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'Invalid texts (empty, not strings, too many, too long)' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Queue full or rate limit hit; see Retry-After' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'Redis unavailable' })
  @ApiResponse({ status: 504, type: ErrorResponseDto, description: 'No worker finished the job in PREDICT_TIMEOUT_MS' })
  async predict(@Body() body: PredictRequestDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<Envelope> {
    const texts = body.texts.map((item) => item.text);
    this.predictions.assertWithinLimits(texts);
    const result = await this.predictions.predict(texts, String(req.headers[REQUEST_ID_HEADER]));
    // A request's texts all travel in one job, answered whole by one worker: one version per request.
    res.setHeader(MODEL_VERSION_HEADER, result.modelVersion);
    return envelope(req, 200, 'OK', { predictions: result.predictions, model_version: result.modelVersion });
  }
}
