import { Controller, Delete, Get, HttpCode, HttpException, Param, Post, Query, Req, Res, UnprocessableEntityException } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { allRows, predictionRows } from '@tagserve/queue';
import type { Request, Response } from 'express';
import { ApiKeys } from '../auth/api-keys';
import { envelope, Envelope } from '../http/response-envelope';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { ApiErrorResponses, THROTTLED } from '../http/openapi';
import { BulkRequestReader } from './bulk-request.reader';
import { csvBody, JOBS_JSON_BODY, JobResponseDto } from './jobs.dto';
import { JobsService } from './jobs.service';
import { csvLine } from './result-csv';

/** Page size of GET /jobs/{id} predictions: 100 by default, at most 1,000 (about 200 kB of JSON). */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** The 404 of a job created with another API key says no more than that of an unknown id (see jobVisibleTo). */
const ANOTHER_KEYS_JOB = "(API keys on) another key's job, answered as an unknown id";

@ApiTags('jobs')
@Controller()
@ApiErrorResponses(THROTTLED)
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly reader: BulkRequestReader,
    private readonly keys: ApiKeys,
  ) {}

  @Post('jobs')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue a bulk prediction job',
    description: 'JSON texts like /predict, or a CSV file with title and description columns. Poll the Location.',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({ schema: { oneOf: [JOBS_JSON_BODY, csvBody('title,description')] } })
  @ApiResponse({ status: 202, type: JobResponseDto, description: 'Queued; Location: /jobs/{id}' })
  @ApiErrorResponses({
    400: 'Malformed JSON (a JSON body is read like the body of /predict), or a body declared gzip, deflate or br that cannot be decompressed',
    408: 'The JSON body did not arrive within HTTP_BODY_TIMEOUT_MS',
    413: 'Body larger than JOBS_BODY_LIMIT (decompressed), or a Content-Length over it',
    415: 'Neither JSON nor CSV, CSV not UTF-8, or an unsupported Content-Encoding',
    422: 'Missing columns, empty file, bytes not UTF-8, more than JOBS_MAX_TEXTS texts, blank or too long text',
    503: 'Redis unavailable; see Retry-After',
  })
  async create(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<Envelope> {
    const input = await this.reader.read(req, res, 'tag');
    const job = await this.jobs.submit('tag', input, String(req.headers[REQUEST_ID_HEADER]), this.keys.identify(req));
    res.setHeader('Location', `/jobs/${job.id}`);
    return envelope(req, 202, 'Accepted', job);
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'State, progress and (once completed) a page of predictions of a bulk job' })
  @ApiParam({ name: 'id' })
  @ApiQuery({ name: 'offset', required: false, description: 'First row of the page (default 0)' })
  @ApiQuery({ name: 'limit', required: false, description: `Rows per page (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})` })
  @ApiResponse({ status: 200, type: JobResponseDto })
  @ApiErrorResponses({
    404: `Unknown job, its results expired (JOB_RESULT_TTL), or ${ANOTHER_KEYS_JOB}`,
    422: 'offset or limit out of range',
    503: 'Redis unavailable; see Retry-After',
  })
  async get(
    @Param('id') id: string,
    @Query('offset') offsetParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @Req() req: Request,
  ): Promise<Envelope> {
    const offset = intParam('offset', offsetParam, 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam('limit', limitParam, DEFAULT_LIMIT, 1, MAX_LIMIT);
    const caller = this.keys.identify(req);
    const job = await this.jobs.view(id, caller);
    if (job.state !== 'completed') return envelope(req, 200, 'OK', job);
    const predictions = predictionRows(await this.jobs.predictions(id, caller), offset, limit);
    const nextOffset = offset + limit < job.progress.texts_total ? offset + limit : null;
    return envelope(req, 200, 'OK', { ...job, offset, limit, next_offset: nextOffset, predictions });
  }

  @Get('jobs/:id/result.csv')
  @ApiOperation({
    summary: 'Every prediction of a completed job as CSV',
    description: 'Columns: index, input_text, predicted_tag, one probability column per label (and tag for evaluate jobs).',
  })
  // No @ApiProduces('text/csv'): it would put the error answers (JSON) under text/csv too; the 200 names its own content.
  @ApiResponse({ status: 200, description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } })
  @ApiErrorResponses({
    404: `Unknown job, its results expired, or ${ANOTHER_KEYS_JOB}`,
    409: 'The job has not completed',
    503: 'Redis unavailable; see Retry-After',
  })
  async resultCsv(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const caller = this.keys.identify(req);
    const job = await this.jobs.view(id, caller);
    if (job.state !== 'completed') throw new HttpException({ message: `Job ${id} is ${job.state}: no result yet`, details: { state: job.state } }, 409);
    const chunks = await this.jobs.predictions(id, caller);
    const labels = chunks[0]?.labels ?? [];
    const withTags = job.kind === 'evaluate';
    res.status(200).type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${id}.csv"`);
    let buffer = csvLine(['index', 'input_text', 'predicted_tag', ...labels, ...(withTags ? ['tag'] : [])]);
    for (const row of allRows(chunks)) {
      buffer += csvLine([
        row.index,
        row.input_text,
        row.predicted_tag,
        ...labels.map((l) => row.predicted_probabilities[l]),
        ...(withTags ? [row.tag ?? ''] : []),
      ]);
      // Written in pieces of about 64 kB, waiting when the client reads slower than we write.
      if (buffer.length >= 65536) {
        if (!res.write(buffer)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
        buffer = '';
        if (res.destroyed) return;
      }
    }
    res.end(buffer);
  }

  @Delete('jobs/:id')
  @ApiOperation({ summary: 'Cancel the chunks of a bulk job that have not run', description: 'Chunks already running finish; the job ends canceled.' })
  @ApiResponse({ status: 200, type: JobResponseDto })
  @ApiErrorResponses({
    404: `Unknown job, its results expired, or ${ANOTHER_KEYS_JOB} and left as it is`,
    409: 'The job is finished (completed, failed, canceled) or has no chunk left to run',
    503: 'Redis unavailable; see Retry-After',
  })
  async cancel(@Param('id') id: string, @Req() req: Request): Promise<Envelope> {
    return envelope(req, 200, 'OK', await this.jobs.cancel(id, this.keys.identify(req)));
  }
}

function intParam(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UnprocessableEntityException(`${name} must be an integer from ${min} to ${max} (got ${raw})`);
  return value;
}
