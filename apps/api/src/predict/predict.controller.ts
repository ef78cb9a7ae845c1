import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrorResponses } from '../http/openapi';
import { envelope, Envelope } from '../http/response-envelope';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { PredictRequestDto } from './predict-request.dto';
import { PredictRequestPipe, type PredictRequest } from './predict-request.pipe';
import { PredictResponseDto } from './prediction-response.dto';
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
    headers: {
      [MODEL_VERSION_HEADER]: {
        description: "The model version that answered (the artifact's DVC hash), the same as data.model_version",
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrorResponses({
    400: 'Malformed JSON, a top level that is not an object, nesting deeper than 32 levels, or a body that cannot be decompressed',
    408: 'The body did not arrive within HTTP_BODY_TIMEOUT_MS',
    413: 'Body larger than BODY_LIMIT (refused on its Content-Length, before it is read)',
    415: 'Content-Type not application/json, or an unsupported charset or Content-Encoding',
    422: 'Invalid texts: not a list, empty, more than MAX_TEXTS, an item not {"text": string}, a blank text or one over MAX_TEXT_LENGTH characters, an unknown field',
    429: 'Queue over QUEUE_MAX_WAITING, or rate limit reached; see Retry-After',
    502: 'The job failed on the worker for good (all attempts used); names the job id',
    503: 'Redis unavailable, the job vanished from Redis, or the api is stopping; see Retry-After',
    504: 'No worker finished the job within PREDICT_TIMEOUT_MS; names the job id, the job stays queued',
  })
  // The parameter's type is an interface, so the global ValidationPipe leaves the body to PredictRequestPipe.
  async predict(@Body(PredictRequestPipe) body: PredictRequest, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<Envelope> {
    const texts = body.texts.map((item) => item.text);
    const result = await this.predictions.predict(texts, String(req.headers[REQUEST_ID_HEADER]));
    // A request's texts all travel in one job, answered whole by one worker: one version per request.
    res.setHeader(MODEL_VERSION_HEADER, result.modelVersion);
    return envelope(req, 200, 'OK', { predictions: result.predictions, model_version: result.modelVersion });
  }
}
