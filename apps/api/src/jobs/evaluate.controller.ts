import { BadGatewayException, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { TagserveConfigService } from '@tagserve/config';
import type { Request, Response } from 'express';
import { ApiKeys } from '../auth/api-keys';
import { ApiErrorResponses, THROTTLED } from '../http/openapi';
import { envelope } from '../http/response-envelope';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { BulkRequestReader } from './bulk-request.reader';
import { csvBody, JobResponseDto } from './jobs.dto';
import { BulkJobView, JobsService } from './jobs.service';

/** How often a waiting /evaluate looks at its job: a 191-row holdout file takes about a second. */
const POLL_MS = 100;

@ApiTags('jobs')
@Controller('evaluate')
@ApiErrorResponses(THROTTLED)
export class EvaluateController {
  private readonly waitMs: number;

  constructor(
    private readonly jobs: JobsService,
    private readonly reader: BulkRequestReader,
    private readonly keys: ApiKeys,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.waitMs = config.get('PREDICT_TIMEOUT_MS');
  }

  @Post()
  @ApiOperation({
    summary: 'Evaluate the served model on a labelled CSV',
    description:
      'Runs as a bulk job. Answers 200 with the metrics (/performance shape) when the job completes within PREDICT_TIMEOUT_MS; otherwise 202 with Location: /jobs/{id}, where the metrics appear once it completes.',
  })
  @ApiConsumes('text/csv')
  @ApiBody({ schema: csvBody('title,description,tag') })
  @ApiResponse({ status: 200, type: JobResponseDto, description: 'Completed: data.performance holds the metrics' })
  @ApiResponse({ status: 202, type: JobResponseDto, description: 'Still running; Location: /jobs/{id}' })
  @ApiErrorResponses({
    400: 'A body declared gzip, deflate or br that cannot be decompressed',
    413: 'Body larger than JOBS_BODY_LIMIT (decompressed), or a Content-Length over it',
    415: 'Not text/csv, not UTF-8, or an unsupported Content-Encoding',
    422: 'Missing columns, empty file or tag, bytes not UTF-8, too many rows',
    502: 'The evaluation job failed within PREDICT_TIMEOUT_MS (a chunk failed on every attempt); names the job id',
    503: 'Redis unavailable; see Retry-After',
  })
  async evaluate(@Req() req: Request, @Res() res: Response): Promise<void> {
    const input = await this.reader.read(req, res, 'evaluate');
    // The job belongs to the request's key (API keys on): only that key can poll its Location.
    const caller = this.keys.identify(req);
    const queued = await this.jobs.submit('evaluate', input, String(req.headers[REQUEST_ID_HEADER]), caller);
    res.setHeader('Location', `/jobs/${queued.id}`);
    const job = await this.finished(queued.id, caller);
    if (job.state === 'failed') throw new BadGatewayException({ message: `Evaluation job ${job.id} failed: ${job.error}`, details: { jobId: job.id } });
    // Sent here, not returned: the status depends on the outcome, and @HttpCode would override it.
    const status = job.state === 'completed' ? 200 : 202;
    res.status(status).json(envelope(req, status, status === 200 ? 'OK' : 'Accepted', job));
  }

  /** The job once finished, or as it is when PREDICT_TIMEOUT_MS is up. */
  private async finished(id: string, caller: string | null): Promise<BulkJobView> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const job = await this.jobs.view(id, caller);
      if (job.state === 'completed' || job.state === 'failed' || Date.now() + POLL_MS > deadline) return job;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
